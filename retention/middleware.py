"""Checks every request passes before a view reads it, so hostile input gets a clear
4xx instead of a 500:

- NUL characters in the path or query string (PostgreSQL text cannot hold them) are
  refused with 400, on every page.
- Under /api/, every error answer is in the API's error shape, including Django's own
  404 for an unknown path, 405 for a wrong method (its `Allow` header kept), 400 and
  500 pages. (What a request body must be is retention.api's: a JSON object.)
"""

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse

from .api import API_ERROR_CODES, error_body, is_json

API_PREFIX = "/api/"


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            raise BadRequest("NUL characters are not allowed in addresses.")
        return self.get_response(request)


class ApiRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            return in_error_shape(request, response)
        return response


MESSAGES = {
    400: "The request is not valid.",
    404: "There is no such endpoint.",
    413: "The request body is too large.",
    500: "Something went wrong on our side; try again later.",
}


def in_error_shape(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The response itself, or for an error Django answered in HTML or plain text, the
    same status in the error shape (headers such as Allow kept)."""
    if response.status_code < 400 or is_json(response.get("Content-Type", "")):
        return response
    status = response.status_code
    if status == 405:
        message = f"{request.method} is not allowed here; use {response.get('Allow', 'another method')}."
    else:
        message = MESSAGES.get(status, response.reason_phrase)
    code = API_ERROR_CODES.get(status, "server_error" if status >= 500 else "error")
    shaped = JsonResponse(error_body(code, message), status=status)
    for header in ("Allow", "Retry-After"):
        if header in response:
            shaped[header] = response[header]
    shaped.cookies = response.cookies
    return shaped

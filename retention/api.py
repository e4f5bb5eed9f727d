"""What every JSON endpoint shares: the error format and session authentication
by role. The NinjaAPI itself is assembled in portal.api from each app's router.

Errors are {"error": {"code": "...", "message": "..."}}: 400 bad input, 401 not
logged in (never a login redirect), 403 wrong role, 404 not yours or not found.
"""

import json

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.security.base import AuthBase
from ninja.utils import check_csrf
from pydantic import BaseModel


# The error code for each status when nothing more specific applies.
API_ERROR_CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "too_many_requests",
}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


ERROR_RESPONSES = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
# Operations that take a JSON body also answer 413 for one over DATA_UPLOAD_MAX_MEMORY_SIZE.
WRITE_ERROR_RESPONSES = {**ERROR_RESPONSES, 413: ErrorOut}


class BodyError(ValueError):
    """A request body that is not a JSON object; the message says what is wrong."""


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def has_body(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # as Django reads it: an unreadable length is no body
        length = 0
    return length > 0 or "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def check_json_body(request: HttpRequest) -> None:
    """Refuses a body that is not sent as JSON (multipart, a form, text), before
    anything reads it: Django's CSRF check would parse a form body and leave nothing for
    the API to read."""
    if has_body(request) and not is_json(request.META.get("CONTENT_TYPE", "")):
        raise BodyError("Send the request body as JSON (Content-Type: application/json).")


def _refuse_constant(name: str):
    raise BodyError(f"{name} is not a JSON number.")


class JsonObjectParser(Parser):
    """Every request body is one JSON object: an array, string, number, true or null at
    the top is refused (400), so a body can never stand for "everything" by accident."""

    def parse_body(self, request: HttpRequest) -> dict:
        check_json_body(request)
        try:
            data = json.loads(request.body, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:
            raise BodyError("The request body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise BodyError("The request body must be a JSON object.")
        return data


def not_found(what: str = "Not found.") -> ApiError:
    return ApiError(404, "not_found", what)


class RoleSession(AuthBase):
    """Django's session cookie, for users with one role. Authentication is checked
    before CSRF so an anonymous caller always gets 401; a write's body must be JSON
    before CSRF is checked (see check_json_body)."""

    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_name = "sessionid"
    role = ""

    def __call__(self, request: HttpRequest):
        user = request.user
        if not user.is_authenticated:
            raise ApiError(401, "not_authenticated", "Log in to use this endpoint.")
        profile = getattr(user, self.role, None)
        if profile is None:
            raise ApiError(403, "forbidden", f"This endpoint is for {self.role}s.")
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not getattr(
            request, "_ninja_csrf_exempt", False
        ):
            try:
                check_json_body(request)
            except BodyError as exc:
                raise ApiError(400, "invalid_request", str(exc)) from None
            if check_csrf(request):
                raise ApiError(403, "csrf_failed", "CSRF token missing or incorrect.")
        request.customer = getattr(user, "customer", None) if self.role == "customer" else None
        return profile


class CustomerSession(RoleSession):
    role = "customer"


class ProviderSession(RoleSession):
    role = "provider"


customer_auth = CustomerSession()
provider_auth = ProviderSession()

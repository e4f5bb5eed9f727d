"""What every JSON endpoint shares: the error format and session authentication
by role. The NinjaAPI itself is assembled in portal.api from each app's router.

Errors are {"error": {"code": "...", "message": "..."}}: 400 bad input, 401 not
logged in (never a login redirect), 403 wrong role, 404 not yours or not found.
"""

from django.http import HttpRequest
from ninja.security.base import AuthBase
from ninja.utils import check_csrf
from pydantic import BaseModel


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


def not_found(what: str = "Not found.") -> ApiError:
    return ApiError(404, "not_found", what)


class RoleSession(AuthBase):
    """Django's session cookie, for users with one role. Authentication is checked
    before CSRF so an anonymous caller always gets 401."""

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

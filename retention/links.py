"""Links into the customer portal that emails, notifications and pages share."""

from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from .models import ServiceType


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


@lru_cache
def _booking_path(prefix: str, urlconf: str | None, root_urlconf: str) -> str:
    # Cached: batch jobs build one link per email and reverse() costs more than the SQL.
    return reverse("portal:book")


def booking_url(
    *, service: ServiceType | str | None = None, code: str | None = None, absolute: bool = False
) -> str:
    """The booking page, with a service chosen (a ServiceType or its slug) and a promo
    code filled in when given: /customer-portal/book/?service=lawn-care&code=ABCD.
    `absolute` for emails (SITE_URL in front)."""
    query = {}
    if service:
        query["service"] = service if isinstance(service, str) else service.slug
    if code:
        query["code"] = code
    path = _booking_path(get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    url = f"{path}?{urlencode(query)}" if query else path
    return absolute_url(url) if absolute else url

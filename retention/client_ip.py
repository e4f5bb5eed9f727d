"""The address a request came from, for rules that count by it (login throttling,
referral sign-ups): with TRUSTED_PROXY_COUNT proxies in front, each appending the address
it saw to X-Forwarded-For, the one the outermost trusted proxy saw; otherwise the
connection's. Entries further left are the client's to forge."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count and (address := _valid_ip(forwarded[-count])):
            return address
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))

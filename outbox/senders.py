"""Where a claimed batch goes: Resend's batch endpoint, or Django's email backend
when there is no RESEND_API_KEY (console or file in development)."""

import json
import logging
import re
import threading
from dataclasses import dataclass, field

import requests
import resend
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers, make_msgid
from resend.http_client import HTTPClient

from .models import OutboundEmail
from .ratelimit import SendRate, _number

log = logging.getLogger(__name__)

@dataclass
class BatchResult:
    provider_ids: list[str] | None = None  # one per member, in order, on success
    error: str = ""
    transient: bool = False  # may succeed later with the same key (429, 5xx, timeout)
    retry_after: float | None = None
    rate_limited: bool = False
    already_accepted: bool = False  # 409: the key was used before, so it went out then
    headers: dict[str, str] = field(default_factory=dict)  # the answer's, lower-cased


@dataclass
class Batch:
    key: str
    emails: list[OutboundEmail]


class KeepAliveClient(HTTPClient):
    """The SDK's HTTP client with our timeout and kept-alive connections (one session
    per sending thread). The rate is not its business: the delivery pipeline takes a
    slot of the shared rate before it hands a batch to a sending thread."""

    def __init__(self):
        self.timeout = 10.0
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def request(self, method, url, headers, json=None, files=None, data=None):
        body = None if json is None else _json_bytes(json)
        headers = {**headers, "Content-Type": "application/json"}
        try:
            resp = self._session().request(
                method, url, headers=headers, data=body, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise RuntimeError(f"timed out after {self.timeout:g}s: {exc}") from exc
        except requests.RequestException as exc:
            raise RuntimeError(f"request failed: {exc}") from exc
        return resp.content, resp.status_code, resp.headers


def _json_bytes(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


_http_client = KeepAliveClient()


class ResendSender:
    """Sends a batch through the resend SDK. `rate` is the account's rate, shared with
    every other process: the pipeline takes a slot before each `send`."""

    max_in_flight = 1

    def __init__(self):
        resend.api_key = settings.RESEND_API_KEY
        resend.api_url = settings.RESEND_API_URL
        resend.default_http_client = _http_client
        _http_client.timeout = settings.RESEND_TIMEOUT_SECONDS
        self.rate = SendRate(
            per_second=settings.RESEND_REQUESTS_PER_SECOND,
            timeout=settings.RESEND_TIMEOUT_SECONDS,
        )
        self.max_in_flight = max(1, settings.RESEND_MAX_IN_FLIGHT)

    def send(self, batch: Batch) -> BatchResult:
        params = [resend_params(email) for email in batch.emails]
        try:
            response = resend.Batch.send(params, {"idempotency_key": batch.key})
        except resend.exceptions.ResendError as exc:
            headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
            result = _classify(exc, headers)
            result.headers = headers
            return result
        headers = {k.lower(): v for k, v in (response.get("http_headers") or {}).items()}
        ids = [item.get("id", "") for item in response.get("data") or []]
        if len(ids) != len(batch.emails):
            return BatchResult(
                error=f"Resend answered {len(ids)} ids for {len(batch.emails)} emails",
                transient=True,
                headers=headers,
            )
        return BatchResult(provider_ids=ids, headers=headers)


def _classify(exc: "resend.exceptions.ResendError", headers: dict[str, str]) -> BatchResult:
    try:
        code = int(exc.code)
    except (TypeError, ValueError):
        code = 500
    error = f"{code} {exc.error_type}: {exc.message}"
    if code == 429:
        retry_after = (
            _number(headers.get("retry-after")) or _number(headers.get("ratelimit-reset")) or 1.0
        )
        return BatchResult(error=error, transient=True, retry_after=retry_after, rate_limited=True)
    if code == 409 and exc.error_type == "concurrent_idempotent_requests":
        return BatchResult(error=error, transient=True, retry_after=1.0)
    if code == 409 and exc.error_type == "invalid_idempotent_request":
        # Resend keeps a key only for a request it accepted; the members went out then.
        return BatchResult(error=error, already_accepted=True)
    if code >= 500 or code in (408,):
        return BatchResult(error=error, transient=True)
    return BatchResult(error=error)  # 4xx: permanent


_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def resend_params(email: OutboundEmail) -> dict:
    """The email as Resend's API takes it. Built only from the stored row, so a retry
    sends byte-for-byte the same batch."""
    params = {
        "from": settings.DEFAULT_FROM_EMAIL,
        "to": [email.to_email],
        "subject": email.subject,
        "html": email.html_body,
        "text": email.text_body,
        "tags": [
            {"name": "kind", "value": email.kind},
            {"name": "template", "value": _TAG_UNSAFE.sub("_", email.template)[:256] or "none"},
            {"name": "outbox_id", "value": str(email.pk)},
        ],
    }
    if email.headers:
        params["headers"] = dict(email.headers)
    return params


class DjangoMailSender:
    """Development and tests without RESEND_API_KEY: Django's email backend (MAILERS)."""

    max_in_flight = 1
    rate = None  # no rate to keep

    def send(self, batch: Batch) -> BatchResult:
        messages = []
        for email in batch.emails:
            message = EmailMultiAlternatives(
                subject=email.subject,
                body=email.text_body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[email.to_email],
                headers={
                    **email.headers,
                    "Message-ID": make_msgid(domain="retention.local"),
                    "X-Outbox-Key": email.idempotency_key,
                },
            )
            message.attach_alternative(email.html_body, "text/html")
            messages.append(message)
        try:
            mailers.default.send_messages(messages)
        except Exception as exc:  # SMTP and friends: try again later
            return BatchResult(error=f"{type(exc).__name__}: {exc}", transient=True)
        return BatchResult(provider_ids=[m.extra_headers["Message-ID"] for m in messages])


def get_sender():
    return ResendSender() if settings.RESEND_API_KEY else DjangoMailSender()


# --- The outbox side: claim, mark --------------------------------------------------------

"""Delivering the outbox: claim a batch, send it outside any transaction, mark it.

Exactly once, even across crashes:
1. Claim: in one short transaction, up to 100 pending rows are locked
   (`select_for_update(skip_locked=True)`), consent is checked again (withdrawn ->
   suppressed), and the rest get status `sending` and one `batch_key`, derived from
   their idempotency keys and the claim time. The transaction commits.
2. Send: the batch goes to Resend's batch endpoint with `Idempotency-Key: <batch_key>`,
   holding no transaction and no row lock.
3. Mark: one UPDATE marks the members sent with their Resend ids.
A crash after 1 leaves rows `sending` with their key; the next run sends exactly that
batch again (same members, same order, same key) and Resend, which keeps keys for 24
hours, answers the first response without sending twice. Retries always re-send the
same batch, so the retry horizon (EMAIL_MAX_ATTEMPTS) stays far below 24 hours.

Only one process delivers at a time (a PostgreSQL advisory lock), so the requests
per second stay under Resend's limit however many jobs and web requests queue
email. Without RESEND_API_KEY the same path hands each batch to Django's email
backend (console or file in development).
"""

import contextvars
import datetime as dt
import hashlib
import json
import logging
import random
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests
import resend
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, make_msgid, mailers
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from resend.http_client import HTTPClient

from .emails import consents
from .models import OutboundEmail

log = logging.getLogger(__name__)
Status = OutboundEmail.Status
BATCH_LIMIT = 100  # Resend's batch endpoint takes at most 100 emails
MAX_ERRORS_IN_STATS = 20

# Set by the job runner during --dry-run: nothing is sent.
dry_run_active: contextvars.ContextVar[bool] = contextvars.ContextVar("retention_dry_run", default=False)


# --- Rate limit ------------------------------------------------------------------------


class RateLimiter:
    """At most `limit` requests in any one second, shared by every sending thread.

    It counts its own requests in a sliding window (with a small margin for the time a
    request takes to arrive), reads Resend's `ratelimit-limit` (never going above it),
    pauses everyone for `retry-after` on a 429, and for `ratelimit-reset` when Resend
    says nothing remains although this process has not used the window up (someone
    else shares the team's quota).
    """

    def __init__(self, limit: float, *, margin: float = 0.03):
        self.configured_limit = limit
        self.limit = limit
        self.margin = margin
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._cond = threading.Condition()

    def reset(self, limit: float) -> None:
        with self._cond:
            self.configured_limit = self.limit = limit

    def acquire(self) -> float:
        """Blocks until a request may start; returns its (monotonic) start time."""
        window = 1.0 + self.margin
        with self._cond:
            while True:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= 2 * window:
                    self._sent.popleft()
                wait_for = self._paused_until - now
                recent = [t for t in self._sent if now - t < window]
                if len(recent) >= max(1, int(self.limit)):
                    wait_for = max(wait_for, recent[-int(max(1, self.limit))] + window - now)
                if wait_for <= 0:
                    self._sent.append(now)
                    return now
                self._cond.wait(wait_for)

    def pause(self, seconds: float) -> None:
        with self._cond:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._cond.notify_all()

    def observe(self, headers: dict[str, str], started: float) -> None:
        """Reads Resend's rate-limit headers from the answer to a request started at `started`."""
        server_limit = _number(headers.get("ratelimit-limit"))
        if server_limit:
            with self._cond:
                self.limit = min(self.configured_limit, server_limit)
        if _number(headers.get("ratelimit-remaining")) == 0:
            reset = _number(headers.get("ratelimit-reset")) or 1.0
            with self._cond:
                mine = sum(1 for t in self._sent if started - 1.1 < t <= started)
            if mine < self.limit:  # the quota went elsewhere: wait as Resend says
                self.pause(reset)


def _number(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


_limiter = RateLimiter(2)


class LimitedRequestsClient(HTTPClient):
    """The SDK's HTTP client with our rate limiter and timeout: the limiter slot is taken
    after the body is encoded, right before the bytes leave, and connections are kept
    alive (one session per thread)."""

    def __init__(self, limiter: RateLimiter):
        self.limiter = limiter
        self.timeout = 10.0
        self._local = threading.local()
        self.last_started = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def request(self, method, url, headers, json=None, files=None, data=None):
        body = None if json is None else _json_bytes(json)
        headers = {**headers, "Content-Type": "application/json"}
        self.last_started.value = self.limiter.acquire()
        try:
            resp = self._session().request(method, url, headers=headers, data=body, timeout=self.timeout)
        except requests.Timeout as exc:
            raise RuntimeError(f"timed out after {self.timeout:g}s: {exc}") from exc
        except requests.RequestException as exc:
            raise RuntimeError(f"request failed: {exc}") from exc
        return resp.content, resp.status_code, resp.headers


def _json_bytes(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


_http_client = LimitedRequestsClient(_limiter)


# --- Senders: Resend, or Django's email backend -------------------------------------------


@dataclass
class BatchResult:
    provider_ids: list[str] | None = None  # one per member, in order, on success
    error: str = ""
    transient: bool = False  # may succeed later with the same key (429, 5xx, timeout)
    retry_after: float | None = None
    rate_limited: bool = False
    already_accepted: bool = False  # 409: the key was used before, so it went out then


@dataclass
class Batch:
    key: str
    emails: list[OutboundEmail]


class ResendSender:
    max_in_flight = 1

    def __init__(self):
        resend.api_key = settings.RESEND_API_KEY
        resend.api_url = settings.RESEND_API_URL
        resend.default_http_client = _http_client
        _http_client.timeout = settings.RESEND_TIMEOUT_SECONDS
        _limiter.reset(settings.RESEND_REQUESTS_PER_SECOND)
        self.max_in_flight = max(1, settings.RESEND_MAX_IN_FLIGHT)

    def send(self, batch: Batch) -> BatchResult:
        params = [resend_params(email) for email in batch.emails]
        try:
            response = resend.Batch.send(params, {"idempotency_key": batch.key})
        except resend.exceptions.ResendError as exc:
            headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
            started = getattr(_http_client.last_started, "value", time.monotonic())
            _limiter.observe(headers, started)
            return _classify(exc, headers)
        headers = {k.lower(): v for k, v in (response.get("http_headers") or {}).items()}
        _limiter.observe(headers, getattr(_http_client.last_started, "value", time.monotonic()))
        ids = [item.get("id", "") for item in response.get("data") or []]
        if len(ids) != len(batch.emails):
            return BatchResult(error=f"Resend answered {len(ids)} ids for {len(batch.emails)} emails", transient=True)
        return BatchResult(provider_ids=ids)


def _classify(exc: "resend.exceptions.ResendError", headers: dict[str, str]) -> BatchResult:
    try:
        code = int(exc.code)
    except (TypeError, ValueError):
        code = 500
    error = f"{code} {exc.error_type}: {exc.message}"
    if code == 429:
        retry_after = _number(headers.get("retry-after")) or _number(headers.get("ratelimit-reset")) or 1.0
        _limiter.pause(retry_after)
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

    def send(self, batch: Batch) -> BatchResult:
        messages = []
        for email in batch.emails:
            message = EmailMultiAlternatives(
                subject=email.subject,
                body=email.text_body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[email.to_email],
                headers={**email.headers, "Message-ID": make_msgid(domain="retention.local"),
                         "X-Outbox-Key": email.idempotency_key},
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


def batch_key_for(emails: list[OutboundEmail], claimed_at: dt.datetime) -> str:
    digest = hashlib.sha256()
    for email in emails:
        digest.update(email.idempotency_key.encode() + b"\n")
    digest.update(claimed_at.isoformat().encode())
    return f"batch/{digest.hexdigest()[:40]}"


def claim_batch(*, size: int, stats: dict) -> Batch | None:
    """Claims up to `size` due pending emails into one batch and commits the claim."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.PENDING, next_attempt_at__lte=now)
            .select_related("customer")
            .order_by("next_attempt_at", "id")[:size]
        )
        if not rows:
            return None
        withdrawn = [row.pk for row in rows if not consents(row.customer, row.kind)]
        if withdrawn:  # consent is checked again at delivery
            OutboundEmail.objects.filter(pk__in=withdrawn).update(
                status=Status.SUPPRESSED, last_error="Consent withdrawn before delivery."
            )
            stats["suppressed"] += len(withdrawn)
        members = [row for row in rows if row.pk not in set(withdrawn)]
        if not members:
            return claim_batch(size=size, stats=stats) if len(rows) == size else None
        key = batch_key_for(members, now)
        OutboundEmail.objects.filter(pk__in=[m.pk for m in members]).update(
            status=Status.SENDING, batch_key=key, claimed_at=now
        )
    return Batch(key=key, emails=members)


def due_claimed_batch(*, exclude: set[str]) -> Batch | None:
    """A batch claimed earlier and not marked: after a crash, or due for a retry."""
    key = (
        OutboundEmail.objects.filter(status=Status.SENDING, next_attempt_at__lte=timezone.now())
        .exclude(batch_key__in=exclude)
        .order_by("next_attempt_at", "id")
        .values_list("batch_key", flat=True)
        .first()
    )
    if key is None:
        return None
    emails = list(OutboundEmail.objects.filter(status=Status.SENDING, batch_key=key).order_by("id"))
    return Batch(key=key, emails=emails) if emails else None


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter: up to base x 2^(attempt-1), capped."""
    ceiling = min(settings.EMAIL_RETRY_MAX_SECONDS, settings.EMAIL_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def record_result(batch: Batch, result: BatchResult, stats: dict) -> None:
    """Writes what happened to a batch; only rows still claimed by it are touched."""
    now = timezone.now()
    members = OutboundEmail.objects.filter(status=Status.SENDING, batch_key=batch.key)
    if result.provider_ids is not None or result.already_accepted:
        ids = result.provider_ids or [""] * len(batch.emails)
        with transaction.atomic():
            marked = members.update(
                status=Status.SENT,
                sent_at=now,
                attempts=F("attempts") + 1,
                last_error=result.error,
                provider_message_id=Case(
                    *[When(pk=email.pk, then=Value(mid)) for email, mid in zip(batch.emails, ids)],
                    default=Value(""),
                ),
            )
        stats["sent"] += marked
        return
    _note_error(stats, batch, result.error)
    if result.transient:
        stats["retried"] += len(batch.emails)
        attempt = max(e.attempts for e in batch.emails) + (0 if result.rate_limited else 1)
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            marked = members.update(
                status=Status.FAILED, attempts=attempt, last_error=f"Gave up after {attempt} attempts: {result.error}"
            )
            stats["failed"] += marked
            return
        delay = result.retry_after if result.retry_after is not None else backoff_seconds(attempt)
        members.update(attempts=attempt, last_error=result.error, next_attempt_at=now + dt.timedelta(seconds=delay))
        return
    if len(batch.emails) > 1:
        # A permanent error for the whole batch (strict validation: one bad email
        # rejects all, and nothing was sent). Each member goes again on its own, so
        # only the bad one fails.
        with transaction.atomic():
            for email in batch.emails:
                OutboundEmail.objects.filter(pk=email.pk, status=Status.SENDING, batch_key=batch.key).update(
                    batch_key=batch_key_for([email], now), attempts=F("attempts") + 1,
                    last_error=result.error, next_attempt_at=now,
                )
        stats["split"] += 1
        return
    stats["failed"] += members.update(status=Status.FAILED, attempts=F("attempts") + 1, last_error=result.error)


def _note_error(stats: dict, batch: Batch, error: str) -> None:
    log.warning("Batch %s (%d emails): %s", batch.key, len(batch.emails), error)
    if len(stats["errors"]) < MAX_ERRORS_IN_STATS:
        stats["errors"].append(f"{batch.key} ({len(batch.emails)} emails): {error}")


@contextmanager
def delivery_lock(*, wait: bool) -> Iterator[bool]:
    """One delivering process at a time (so the rate limit holds across processes)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = zlib.crc32(b"retention.delivery")
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
            acquired = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _has_due_work() -> bool:
    now = timezone.now()
    return OutboundEmail.objects.filter(
        status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now
    ).exists()


def deliver_soon() -> None:
    """Called after a web request's transaction commits; failures stay for deliver_emails."""
    try:
        deliver_pending(wait_for_lock=False, retry_wait_seconds=0)
    except Exception:  # the outbox keeps the row; deliver_emails retries it
        log.exception("Delivering right after commit failed; deliver_emails will retry")


def new_stats() -> dict:
    return {"sent": 0, "failed": 0, "suppressed": 0, "retried": 0, "split": 0, "deferred": 0,
            "batches": 0, "errors": []}


def deliver_pending(
    *,
    limit: int | None = None,
    wait_for_lock: bool = True,
    retry_wait_seconds: float | None = None,
    sender=None,
) -> dict:
    """Sends what is due in the outbox, in batches. Returns counts: `sent`, `failed`,
    `suppressed` (consent withdrawn), `retried` (emails that met a 429/5xx/timeout),
    `deferred` (left for a later run), `batches`, `errors` (the first messages).

    `limit` caps the emails claimed; `retry_wait_seconds` is how long to stay for
    retries that come due (default EMAIL_RETRY_WAIT_SECONDS); with `wait_for_lock`
    False it returns at once when another process is delivering (that one picks the
    new rows up). Safe to call at any time, from any number of processes.
    """
    stats = new_stats()
    if dry_run_active.get():
        stats["dryRun"] = True
        return stats
    if retry_wait_seconds is None:
        retry_wait_seconds = settings.EMAIL_RETRY_WAIT_SECONDS
    while True:
        with delivery_lock(wait=wait_for_lock) as held:
            if not held:
                stats["busy"] = True
                return stats
            _deliver_locked(stats, limit=limit, retry_wait_seconds=retry_wait_seconds, sender=sender)
        # Someone may have queued and found us holding the lock just before we let go.
        if wait_for_lock or limit is not None or not _has_due_work():
            break
    stats["deferred"] = OutboundEmail.objects.filter(status__in=[Status.PENDING, Status.SENDING]).count()
    return stats


def _deliver_locked(stats: dict, *, limit: int | None, retry_wait_seconds: float, sender) -> None:
    sender = sender or get_sender()
    size = min(BATCH_LIMIT, settings.EMAIL_BATCH_SIZE)
    budget = limit
    deadline = time.monotonic() + retry_wait_seconds
    in_flight: dict[Future, Batch] = {}
    with ThreadPoolExecutor(max_workers=sender.max_in_flight, thread_name_prefix="deliver") as pool:
        while True:
            while len(in_flight) < sender.max_in_flight:
                batch = due_claimed_batch(exclude={b.key for b in in_flight.values()})
                if batch is None and (budget is None or budget > 0):
                    batch = claim_batch(size=size if budget is None else min(size, budget), stats=stats)
                    if batch is not None and budget is not None:
                        budget -= len(batch.emails)
                if batch is None:
                    break
                stats["batches"] += 1
                in_flight[pool.submit(sender.send, batch)] = batch
            if in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = in_flight.pop(future)
                    try:
                        result = future.result()
                    except Exception as exc:  # a bug or an unexpected library error
                        log.exception("Sending batch %s failed", batch.key)
                        result = BatchResult(error=f"{type(exc).__name__}: {exc}", transient=True)
                    record_result(batch, result, stats)
                continue
            # Nothing due now: stay for retries that come due within the budget.
            next_due = (
                OutboundEmail.objects.filter(status=Status.SENDING)
                .order_by("next_attempt_at")
                .values_list("next_attempt_at", flat=True)
                .first()
            )
            if next_due is None:
                return
            wait_for = (next_due - timezone.now()).total_seconds()
            if time.monotonic() + max(0.0, wait_for) > deadline:
                return
            time.sleep(max(0.0, wait_for) + 0.01)

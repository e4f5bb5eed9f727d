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
import queue
import random
import re
import threading
import time
from collections import deque
from collections.abc import Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import requests
import resend
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers, make_msgid
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from resend.http_client import HTTPClient

from .emails import consents
from .locks import advisory_lock
from .models import OutboundEmail

log = logging.getLogger(__name__)
Status = OutboundEmail.Status
BATCH_LIMIT = 100  # Resend's batch endpoint takes at most 100 emails
SOON_LOCK_ATTEMPTS, SOON_LOCK_PAUSE_SECONDS = 5, 0.1  # deliver_soon's wait: half a second at most
MAX_ERRORS_IN_STATS = 20

# Set by the job runner during --dry-run: nothing is sent.
dry_run_active: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "retention_dry_run", default=False
)


# --- Rate limit ------------------------------------------------------------------------


class RateLimiter:
    """At most `limit` requests in any one second, shared by every sending thread.

    Resend counts a request when it arrives, which is some time after it leaves here and
    before its answer comes back. So a new request may start only one second after the
    answer to the request `limit` places back: whatever the network or the scheduler
    does in between, no second at Resend ever holds more than `limit` of ours. It costs
    one request's latency per second of sending. Requests are also spaced at least
    half an interval apart (no bursts). Resend's answers count too: `ratelimit-limit`
    lowers the limit (never raises it), a 429's `retry-after` pauses everyone, and
    `ratelimit-remaining: 0` while this process has not used the window up (someone else
    shares the team's quota) waits `ratelimit-reset`.
    """

    def __init__(self, limit: float):
        self.configured_limit = limit
        self.limit = limit
        self._starts: deque[float] = deque()  # start times, oldest first
        self._ends: deque[float | None] = deque()  # answer times (None while in flight)
        self._paused_until = 0.0
        self._offset = 0  # tickets handed out before the oldest entry kept
        self._cond = threading.Condition()

    def reset(self, limit: float) -> None:
        """A new delivery run starts from the configured limit."""
        with self._cond:
            self.configured_limit = self.limit = limit

    def acquire(self) -> int:
        """Blocks until a request may start; returns a ticket for `answered`."""
        with self._cond:
            while True:
                now = time.monotonic()
                per_window = max(1, int(self.limit))
                window = max(1.0, 1.0 / self.limit)  # under 1 request/s: one per 1/limit seconds
                while len(self._starts) > per_window and self._ends[0] is not None:
                    self._starts.popleft()
                    self._ends.popleft()
                    self._offset += 1
                wait_for = self._paused_until - now
                if self._starts:
                    wait_for = max(wait_for, self._starts[-1] + 0.5 / self.limit - now)
                waiting_for_answer = False
                if len(self._starts) >= per_window:
                    reference = self._ends[-per_window]
                    if reference is None:
                        waiting_for_answer = True  # answered() wakes us
                    else:
                        wait_for = max(wait_for, reference + window - now)
                if wait_for <= 0 and not waiting_for_answer:
                    self._starts.append(now)
                    self._ends.append(None)
                    return self._offset + len(self._starts) - 1
                self._cond.wait(wait_for if wait_for > 0 else 5.0)

    def answered(self, ticket: int) -> None:
        """The answer to the request with this ticket has arrived (or it failed)."""
        with self._cond:
            index = ticket - self._offset
            if 0 <= index < len(self._ends):
                self._ends[index] = time.monotonic()
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        with self._cond:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._cond.notify_all()

    def observe(self, headers: dict[str, str], ticket: int) -> None:
        """Reads Resend's rate-limit headers from the answer to the request `ticket`."""
        server_limit = _number(headers.get("ratelimit-limit"))
        if server_limit:
            with self._cond:
                self.limit = min(self.configured_limit, server_limit)
        if _number(headers.get("ratelimit-remaining")) == 0:
            reset = _number(headers.get("ratelimit-reset")) or 1.0
            with self._cond:
                index = ticket - self._offset
                started = (
                    self._starts[index] if 0 <= index < len(self._starts) else time.monotonic()
                )
                mine = sum(1 for t in self._starts if started - 1.0 < t <= started)
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
        self.last_ticket = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def request(self, method, url, headers, json=None, files=None, data=None):
        body = None if json is None else _json_bytes(json)
        headers = {**headers, "Content-Type": "application/json"}
        ticket = self.last_ticket.value = self.limiter.acquire()
        try:
            resp = self._session().request(
                method, url, headers=headers, data=body, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise RuntimeError(f"timed out after {self.timeout:g}s: {exc}") from exc
        except requests.RequestException as exc:
            raise RuntimeError(f"request failed: {exc}") from exc
        finally:
            self.limiter.answered(ticket)
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
            _limiter.observe(headers, getattr(_http_client.last_ticket, "value", -1))
            return _classify(exc, headers)
        headers = {k.lower(): v for k, v in (response.get("http_headers") or {}).items()}
        _limiter.observe(headers, getattr(_http_client.last_ticket, "value", -1))
        ids = [item.get("id", "") for item in response.get("data") or []]
        if len(ids) != len(batch.emails):
            return BatchResult(
                error=f"Resend answered {len(ids)} ids for {len(batch.emails)} emails",
                transient=True,
            )
        return BatchResult(provider_ids=ids)


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


def batch_key_for(emails: list[OutboundEmail], claimed_at: dt.datetime) -> str:
    digest = hashlib.sha256()
    for email in emails:
        digest.update(email.idempotency_key.encode() + b"\n")
    digest.update(claimed_at.isoformat().encode())
    return f"batch/{digest.hexdigest()[:40]}"


def claim_batches(
    *, size: int, count: int, limit: int | None, stats: dict, keys: list[str] | None = None
) -> list[Batch]:
    """Claims up to `count` batches of up to `size` due pending emails (only those with
    these idempotency `keys`, if given), in one transaction, and commits the claim
    before anything is sent."""
    now = timezone.now()
    wanted = size * count if limit is None else min(size * count, limit)
    if wanted <= 0:
        return []
    with transaction.atomic():
        rows = list(
            OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.PENDING, next_attempt_at__lte=now, **_only(keys))
            .select_related("customer")
            .order_by("next_attempt_at", "id")[:wanted]
        )
        withdrawn = {row.pk for row in rows if not consents(row.customer, row.kind)}
        if withdrawn:  # consent is checked again at delivery
            OutboundEmail.objects.filter(pk__in=withdrawn).update(
                status=Status.SUPPRESSED, last_error="Consent withdrawn before delivery."
            )
            stats["suppressed"] += len(withdrawn)
        members = [row for row in rows if row.pk not in withdrawn]
        batches = []
        for start in range(0, len(members), size):
            # Members in id order, the order a retry reads them back in: the same body.
            chunk = sorted(members[start : start + size], key=lambda row: row.pk)
            key = batch_key_for(chunk, now)
            OutboundEmail.objects.filter(pk__in=[m.pk for m in chunk]).update(
                status=Status.SENDING, batch_key=key, claimed_at=now
            )
            batches.append(Batch(key=key, emails=chunk))
    if not batches and len(rows) == wanted and withdrawn:
        return claim_batches(
            size=size,
            count=count,
            limit=None if limit is None else limit - len(rows),
            stats=stats,
            keys=keys,
        )
    return batches


def _only(keys: list[str] | None) -> dict:
    """The filter for "only these emails", or none."""
    return {} if keys is None else {"idempotency_key__in": keys}


def due_claimed_batch(*, exclude: set[str], keys: list[str] | None = None) -> Batch | None:
    """A batch claimed earlier and not marked: after a crash, or due for a retry (one
    holding one of these `keys`, if given)."""
    key = (
        OutboundEmail.objects.filter(
            status=Status.SENDING, next_attempt_at__lte=timezone.now(), **_only(keys)
        )
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
    """Exponential backoff with jitter: between half and all of base x 2^(attempt-1), capped."""
    ceiling = min(
        settings.EMAIL_RETRY_MAX_SECONDS,
        settings.EMAIL_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1),
    )
    return random.uniform(ceiling / 2, ceiling)


def record_result(batch: Batch, result: BatchResult, stats: dict) -> None:
    """Writes what happened to a batch; only rows still claimed by it are touched."""
    now = timezone.now()
    members = OutboundEmail.objects.filter(status=Status.SENDING, batch_key=batch.key)
    if result.provider_ids is not None or result.already_accepted:
        ids = result.provider_ids or [""] * len(batch.emails)
        with transaction.atomic():
            _commit_without_waiting_for_disk()
            marked = mark_sent(batch, ids, error=result.error, now=now)
        stats["sent"] += marked
        return
    _note_error(stats, batch, result.error)
    if result.transient:
        stats["retried"] += len(batch.emails)
        attempt = max(e.attempts for e in batch.emails) + (0 if result.rate_limited else 1)
        if attempt >= settings.EMAIL_MAX_ATTEMPTS:
            marked = members.update(
                status=Status.FAILED,
                attempts=attempt,
                last_error=f"Gave up after {attempt} attempts: {result.error}",
            )
            stats["failed"] += marked
            return
        delay = result.retry_after if result.retry_after is not None else backoff_seconds(attempt)
        members.update(
            attempts=attempt,
            last_error=result.error,
            next_attempt_at=now + dt.timedelta(seconds=delay),
        )
        return
    if len(batch.emails) > 1:
        # A permanent error for the whole batch (strict validation: one bad email
        # rejects all, and nothing was sent). Each member goes again on its own, so
        # only the bad one fails.
        with transaction.atomic():
            for email in batch.emails:
                OutboundEmail.objects.filter(
                    pk=email.pk, status=Status.SENDING, batch_key=batch.key
                ).update(
                    batch_key=batch_key_for([email], now),
                    attempts=F("attempts") + 1,
                    last_error=result.error,
                    next_attempt_at=now,
                )
        stats["split"] += 1
        return
    stats["failed"] += members.update(
        status=Status.FAILED, attempts=F("attempts") + 1, last_error=result.error
    )


def mark_sent(batch: Batch, provider_ids: list[str], *, error: str, now: dt.datetime) -> int:
    """One UPDATE marks the batch's members sent, each with its Resend id."""
    pks = [email.pk for email in batch.emails]
    # Raw SQL: Django's CASE with 100 WHENs takes longer to compile than to run.
    table = OutboundEmail._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} AS e SET status = %s, sent_at = %s, attempts = e.attempts + 1,
                    last_error = %s, provider_message_id = v.provider_id
                FROM unnest(%s::bigint[], %s::text[]) AS v(id, provider_id)
                WHERE e.id = v.id AND e.status = %s AND e.batch_key = %s""",
            [Status.SENT, now, error, pks, provider_ids, Status.SENDING, batch.key],
        )
        return cursor.rowcount


def _commit_without_waiting_for_disk() -> None:
    """Marking sent may skip the wait for the disk: if a database crash lost the mark,
    the batch would be sent again under its same key and Resend would not send it twice.
    (The claim, which fixes the key, always waits.)"""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def _note_error(stats: dict, batch: Batch, error: str) -> None:
    log.warning("Batch %s (%d emails): %s", batch.key, len(batch.emails), error)
    if len(stats["errors"]) < MAX_ERRORS_IN_STATS:
        stats["errors"].append(f"{batch.key} ({len(batch.emails)} emails): {error}")


def _has_due_work() -> bool:
    now = timezone.now()
    return OutboundEmail.objects.filter(
        status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now
    ).exists()


def retry_emails(queryset) -> int:
    """Staff's "retry": failed emails go back to pending (a new batch, a new key: if a
    failure came after Resend may have accepted it, this can send it twice, which is
    staff's call); emails waiting for a retry go now, in their same batch."""
    now = timezone.now()
    waiting = queryset.filter(status=Status.SENDING).update(next_attempt_at=now)
    failed = queryset.filter(status=Status.FAILED).update(
        status=Status.PENDING, batch_key="", claimed_at=None, attempts=0, next_attempt_at=now
    )
    return waiting + failed


class AfterResponseDelivery:
    """One background thread per process that delivers what web requests queued.

    Requests hand it their emails' keys after commit and answer at once; the thread
    sends everything handed to it so far in one go, waiting for the delivery lock if
    another process holds it (nobody is waiting on this thread), and keeps its database
    connection between sends as CONN_MAX_AGE allows. Emails it has not sent when the
    process exits stay in the outbox (pending, or `sending` with their batch key) and
    deliver_emails sends them exactly once.
    """

    STOP_WAIT_SECONDS = 10.0

    def __init__(self):
        self._keys: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, keys: list[str]) -> None:
        self._keys.put(keys)
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="deliver-after-response", daemon=True)
                self._thread.start()

    def finish(self) -> None:
        """Lets the thread send what it was handed, then stop and close its connection."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._keys.put(None)
            thread.join(self.STOP_WAIT_SECONDS)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            handed = [self._keys.get()]
            while True:
                try:
                    handed.append(self._keys.get_nowait())
                except queue.Empty:
                    break
            stopping = None in handed
            keys = [key for batch in handed if batch for key in batch]
            close_old_connections()  # honour CONN_MAX_AGE and health checks between sends
            for start in range(0, len(keys), BATCH_LIMIT):
                try:
                    deliver_pending(keys=keys[start : start + BATCH_LIMIT], wait_for_lock=True)
                except Exception:  # the outbox keeps the rows; deliver_emails retries them
                    log.exception("Delivering after the response failed; deliver_emails will retry")
        connection.close()


after_response_delivery = AfterResponseDelivery()


def deliver_after_response(keys: Collection[str]) -> None:
    """Delivers a web request's emails without keeping its visitor waiting: handed to
    the process's delivery thread when EMAIL_DELIVER_IN_BACKGROUND is on (the WSGI
    server: retention/wsgi.py turns it on), inline otherwise (commands, tests). A send cut short leaves its rows pending or `sending` with their
    batch key, and deliver_emails finishes them exactly once."""
    keys = list(keys)
    if not keys:
        return
    if settings.EMAIL_DELIVER_IN_BACKGROUND:
        after_response_delivery.submit(keys)
    else:
        deliver_soon(keys)


def deliver_soon(keys: Collection[str]) -> None:
    """Called after a web request's transaction commits, with the idempotency keys of
    the emails it queued: sends those (at most one batch's worth) and nothing else, so
    a request never waits for someone else's backlog (a seasonal run's thousands).
    Whatever is left, failures included, goes with deliver_emails.

    When another process is delivering, it tries again briefly (that one may be a
    request sending only its own email), then leaves the rest to deliver_emails.
    """
    keys = list(keys)[:BATCH_LIMIT]
    if not keys:
        return
    try:
        for attempt in range(SOON_LOCK_ATTEMPTS):
            if attempt:
                time.sleep(SOON_LOCK_PAUSE_SECONDS)
            stats = deliver_pending(keys=keys, wait_for_lock=False, retry_wait_seconds=0)
            if not stats.get("busy"):
                return
    except Exception:  # the outbox keeps the row; deliver_emails retries it
        log.exception("Delivering right after commit failed; deliver_emails will retry")


def new_stats() -> dict:
    return {
        "sent": 0,
        "failed": 0,
        "suppressed": 0,
        "retried": 0,
        "split": 0,
        "deferred": 0,
        "batches": 0,
        "errors": [],
    }


def deliver_pending(
    *,
    limit: int | None = None,
    wait_for_lock: bool = True,
    retry_wait_seconds: float | None = None,
    sender=None,
    keys: Collection[str] | None = None,
) -> dict:
    """Sends what is due in the outbox, in batches. Returns counts: `sent`, `failed`,
    `suppressed` (consent withdrawn), `retried` (emails that met a 429/5xx/timeout),
    `deferred` (left for a later run), `batches`, `errors` (the first messages).

    `limit` caps the emails claimed; `retry_wait_seconds` is how long to stay for
    retries that come due (default EMAIL_RETRY_WAIT_SECONDS); with `wait_for_lock`
    False it returns at once when another process is delivering (that one picks the
    new rows up). With `keys`, only the emails with these idempotency keys are sent.
    Safe to call at any time, from any number of processes.
    """
    stats = new_stats()
    if dry_run_active.get():
        stats["dryRun"] = True
        return stats
    if retry_wait_seconds is None:
        retry_wait_seconds = settings.EMAIL_RETRY_WAIT_SECONDS
    keys = None if keys is None else list(keys)
    left_work = False
    while True:
        with advisory_lock("delivery", wait=wait_for_lock) as held:
            if not held:
                stats["busy"] = True
                return stats
            left_work = _deliver_locked(
                stats, limit=limit, retry_wait_seconds=retry_wait_seconds, sender=sender, keys=keys
            )
        # Someone may have queued and found us holding the lock just before we let go.
        if wait_for_lock or limit is not None or keys is not None or not _has_due_work():
            break
    if left_work:
        stats["deferred"] = OutboundEmail.objects.filter(
            status__in=[Status.PENDING, Status.SENDING]
        ).count()
    return stats


def _deliver_locked(
    stats: dict, *, limit: int | None, retry_wait_seconds: float, sender, keys: list[str] | None
) -> bool:
    """Returns whether work was left for a later run."""
    pipeline = _Pipeline(stats, limit=limit, sender=sender or get_sender(), keys=keys)
    pipeline.run(retry_wait_seconds=retry_wait_seconds)
    return pipeline.left_work


class _Pipeline:
    """One delivery run. Up to `max_in_flight` batches are with the sender threads (they
    wait for the rate limiter there), a claimer thread claims the next batches ahead on
    its own connection, and this thread records the answers: the limiter never waits
    for the database."""

    def __init__(self, stats: dict, *, limit: int | None, sender, keys: list[str] | None = None):
        self.stats = stats
        self.keys = keys  # only these emails (deliver_soon), or all that are due
        self.sender = sender
        self.size = min(BATCH_LIMIT, settings.EMAIL_BATCH_SIZE)
        self.depth = sender.max_in_flight
        self.budget = limit
        self.in_flight: dict[Future, Batch] = {}
        self.claimed: deque[Batch] = deque()  # claimed (committed), not sent yet
        self.claiming: Future | None = None
        self.look_for_claimed = True  # batches left claimed by a crash, or due for a retry
        self.pending_left = True
        self.first_claim = True
        self.left_work = False  # stopped with retries not yet due, or at the limit
        # Not inside a transaction (another connection could not see into it): there
        # the claims stay on this thread.
        self.threaded_claims = not connection.in_atomic_block

    def run(self, *, retry_wait_seconds: float) -> None:
        deadline = time.monotonic() + retry_wait_seconds
        with (
            ThreadPoolExecutor(max_workers=self.depth, thread_name_prefix="deliver") as self.pool,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="claim") as self.claimer,
        ):
            try:
                while self._step(deadline):
                    pass
            finally:
                if self.claiming is not None:
                    self.claiming.result()
                if self.threaded_claims:
                    self.claimer.submit(
                        lambda: connection.close()
                    ).result()  # the claimer thread's own

    def _step(self, deadline: float) -> bool:
        self._fill()
        self._claim_ahead()
        self._fill()
        if self.claiming is not None and not self.in_flight and not self.claimed:
            self._take_claim(self.claiming.result())  # nothing else to do meanwhile
            return True
        if self.in_flight:
            done, _ = wait(
                [*self.in_flight, *([self.claiming] if self.claiming else [])],
                return_when=FIRST_COMPLETED,
            )
            if self.claiming is not None and self.claiming.done():
                self._take_claim(self.claiming.result())
            for future in done:
                if future in self.in_flight:
                    self._record(future)
            if not self.in_flight:
                self.pending_left = True  # anything queued meanwhile?
            return True
        # Nothing due now: stay for retries that come due within the deadline.
        next_due = (
            OutboundEmail.objects.filter(status=Status.SENDING, **_only(self.keys))
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if next_due is None:
            self.left_work = self.budget is not None and self.budget <= 0
            return False
        wait_for = max(0.0, (next_due - timezone.now()).total_seconds())
        if time.monotonic() + wait_for > deadline:
            self.left_work = True
            return False
        time.sleep(wait_for + 0.01)
        self.look_for_claimed = self.pending_left = True
        return True

    def _fill(self) -> None:
        while len(self.in_flight) < self.depth:
            batch = None
            if self.look_for_claimed:
                busy = {b.key for b in self.in_flight.values()} | {b.key for b in self.claimed}
                batch = due_claimed_batch(exclude=busy, keys=self.keys)
                self.look_for_claimed = batch is not None
            if batch is None and self.claimed:
                batch = self.claimed.popleft()
            if batch is None:
                return
            self.stats["batches"] += 1
            self.in_flight[self.pool.submit(self.sender.send, batch)] = batch

    def _claim_ahead(self) -> None:
        if self.claiming is not None or not self.pending_left or len(self.claimed) >= self.depth:
            return
        if self.budget is not None and self.budget <= 0:
            return
        # The first claim is one batch, so the first request leaves at once.
        count = 1 if self.first_claim else self.depth
        self.first_claim = False
        kwargs = {
            "size": self.size,
            "count": count,
            "limit": self.budget,
            "stats": self.stats,
            "keys": self.keys,
        }
        if self.threaded_claims:
            self.claiming = self.claimer.submit(claim_batches, **kwargs)
        else:
            self._take_claim(claim_batches(**kwargs))

    def _take_claim(self, batches: list[Batch]) -> None:
        self.claiming = None
        self.pending_left = bool(batches)
        self.claimed.extend(batches)
        if self.budget is not None:
            self.budget -= sum(len(b.emails) for b in batches)

    def _record(self, future: Future) -> None:
        batch = self.in_flight.pop(future)
        try:
            result = future.result()
        except Exception as exc:  # a bug or an unexpected library error
            log.exception("Sending batch %s failed", batch.key)
            result = BatchResult(error=f"{type(exc).__name__}: {exc}", transient=True)
        record_result(batch, result, self.stats)
        if result.provider_ids is None and not result.already_accepted:
            self.look_for_claimed = True  # split or rescheduled

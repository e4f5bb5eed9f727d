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

import logging
import time
from collections import deque
from collections.abc import Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connection
from django.utils import timezone

from retention.locks import advisory_lock
from retention.scheduling import JobContext, dry_run_active

from .batches import (
    BATCH_LIMIT,
    Batch,
    _has_due_work,
    _only,
    claim_batches,
    due_claimed_batch,
    record_result,
)
from .models import OutboundEmail
from .senders import BatchResult, get_sender

log = logging.getLogger(__name__)
Status = OutboundEmail.Status


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


def deliver_queued(ctx: JobContext, *, template: str) -> None:
    """After a job's writes have committed: delivers the outbox, outside any transaction.

    The job's `failed` counts only its own emails (this template, queued since the run
    started) that failed for good or were tried and are still waiting for a retry (the
    outbox keeps and retries them; the run still exits non-zero so cron hears of it);
    the whole delivery run, including other emails that happened to be due (a bounced
    tier-upgrade email, say), is reported under `delivery`.
    """
    delivery = deliver_pending()
    own = OutboundEmail.objects.filter(template=template, created_at__gte=ctx.started_at)
    own_failed = own.filter(status=OutboundEmail.Status.FAILED).count()
    # Tried and still not accepted (Resend down or refusing for the whole run): the
    # outbox retries them, but the run did not deliver, so cron must hear of it.
    own_undelivered = own.filter(
        status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING], attempts__gt=0
    ).count()
    ctx.stats["delivery"] = delivery
    ctx.stats["deliveryFailed"] = own_failed
    ctx.stats["deliveryUndelivered"] = own_undelivered
    ctx.stats["failed"] += own_failed + own_undelivered
    ctx.progress(
        f"delivered {delivery.get('sent', 0)} email(s); of this run's, {own_failed} failed and"
        f" {own_undelivered} wait for a retry ({delivery.get('failed', 0)} failed in all)"
    )

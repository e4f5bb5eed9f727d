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

One process sends at a time (the `delivery` advisory lock), and only while requests
are in flight or batches are being claimed: a batch in flight is `sending` like one
left by a crash, and the lock is what tells them apart. Every wait (for a slot of the
rate, a 429's pause, a retry's backoff) happens with the lock let go and what was
claimed ahead handed back, so other processes deliver meanwhile. The rate itself is
shared by every process on every host (outbox.ratelimit: slots in the database), so
it holds however the lock passes between them. Without RESEND_API_KEY the same path
hands each batch to Django's email backend (console or file in development).
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
    claimed_batch,
    due_claimed_key,
    record_result,
)
from .models import OutboundEmail
from .ratelimit import Slot
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
    deadline = time.monotonic() + retry_wait_seconds
    with _Pipeline(stats, limit=limit, sender=sender or get_sender(), keys=keys) as pipeline:
        first = True
        while True:
            with advisory_lock("delivery", wait=wait_for_lock) as held:
                if not held:
                    stats["busy"] = True
                    if first:
                        return stats
                    pipeline.left_work = True  # the holder, or deliver_emails, sends the rest
                    break
                wait_for = pipeline.run(deadline=deadline)
            first = False
            if wait_for is not None:
                time.sleep(wait_for)  # without the lock: others claim and send meanwhile
                continue
            # Someone may have queued and found us holding the lock just before we let go.
            if wait_for_lock or limit is not None or keys is not None or not _has_due_work():
                break
    if pipeline.left_work:
        stats["deferred"] = OutboundEmail.objects.filter(
            status__in=[Status.PENDING, Status.SENDING]
        ).count()
    return stats


class _Pipeline:
    """One delivery run. Under the lock, up to `max_in_flight` batches are with the
    sender threads, each holding a slot of the shared rate; a claimer thread claims the
    next batches ahead and a recorder thread marks answered batches, each on its own
    connection, so this thread is free to take the next slot the moment one frees.

    `run()` returns when there is nothing left to do now, or when the next thing to do
    is to wait (no slot free, a pause, a retry not yet due) with nothing in flight: it
    hands back what it claimed ahead (the rows stay `sending` with their batch key, so
    whoever holds the lock next sends them) and says how long to wait."""

    def __init__(self, stats: dict, *, limit: int | None, sender, keys: list[str] | None = None):
        self.stats = stats
        self.keys = keys  # only these emails (deliver_soon), or all that are due
        self.sender = sender
        self.rate = getattr(sender, "rate", None)  # None: no rate to keep (Django's backend)
        self.size = min(BATCH_LIMIT, settings.EMAIL_BATCH_SIZE)
        self.depth = sender.max_in_flight
        self.budget = limit
        self.in_flight: dict[Future, tuple[Batch, Slot | None]] = {}
        self.claimed: deque[Batch] = deque()  # claimed (committed), not sent yet
        self.claiming: Future | None = None
        self.recording: dict[Future, Batch] = {}  # answered, being marked
        self.look_for_claimed = True  # batches left claimed (a crash, a hand-back) or due for a retry
        self.pending_left = True
        self.first_claim = True
        self.left_work = False  # stopped with retries not yet due, or at the limit
        # Claims and marks on threads of their own only for a drain of the whole outbox,
        # where they overlap with the requests in flight. Not for a request's own emails
        # (`keys`: one batch, nothing to overlap; each run's threads would open and close
        # two database connections, per web request, costing more than the batch), and
        # not inside a transaction (another connection could not see into it).
        self.threaded = keys is None and not connection.in_atomic_block

    def __enter__(self) -> "_Pipeline":
        self.pool = ThreadPoolExecutor(max_workers=self.depth, thread_name_prefix="deliver")
        self.claimer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claim")
        self.recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="record")
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.threaded:  # each thread's own connection
                self.claimer.submit(lambda: connection.close()).result()
                self.recorder.submit(lambda: connection.close()).result()
        finally:
            self.claimer.shutdown()
            self.recorder.shutdown()
            self.pool.shutdown()

    def run(self, *, deadline: float) -> float | None:
        """Under the delivery lock. Returns None when done, or the seconds to wait (with
        the lock let go) before running again."""
        self.look_for_claimed = self.pending_left = True  # another holder may have been here
        try:
            while True:
                wait_for = self._step(deadline)
                if wait_for is not _GO_ON:
                    return wait_for
        finally:
            self._hand_back()

    def _hand_back(self) -> None:
        """Nothing of ours may be in flight or half-claimed once the lock is let go."""
        for future in list(self.in_flight):  # only after an error in this thread
            future.exception()
        self.in_flight.clear()
        self._reap_records(wait_for_all=True)
        if self.claiming is not None:
            try:
                self.claiming.result()
            finally:
                self.claiming = None
        self.claimed.clear()  # still `sending`, due: found again by due_claimed_key

    def _step(self, deadline: float):
        slot_wait = self._fill()
        self._claim_ahead()
        if slot_wait is None:
            slot_wait = self._fill()
        if self.in_flight:
            done, _ = wait(
                [*self.in_flight, *([self.claiming] if self.claiming else [])],
                timeout=slot_wait,  # a slot frees then: send the next batch
                return_when=FIRST_COMPLETED,
            )
            if self.claiming is not None and self.claiming.done():
                self._take_claim(self.claiming.result())
            for future in done:
                if future in self.in_flight:
                    self._record(future)
            self._reap_records()
            if not self.in_flight:
                self.pending_left = True  # anything queued meanwhile?
            return _GO_ON
        if self.recording:  # their marks decide what is due next
            self._reap_records(wait_for_all=True)
            return _GO_ON
        if slot_wait is not None:
            return slot_wait  # a batch is ready and no slot is free: wait without the lock
        if self.claiming is not None:
            self._take_claim(self.claiming.result())  # nothing else to do meanwhile
            return _GO_ON
        # Nothing due now: come back for retries that come due within the deadline.
        next_due = (
            OutboundEmail.objects.filter(status=Status.SENDING, **_only(self.keys))
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if next_due is None:
            self.left_work = self.budget is not None and self.budget <= 0
            return None
        wait_for = max(0.0, (next_due - timezone.now()).total_seconds())
        if time.monotonic() + wait_for > deadline:
            self.left_work = True
            return None
        return wait_for + 0.01

    def _fill(self) -> float | None:
        """Hands batches to the sender threads while there are slots; returns the seconds
        until a slot may free when a batch is left waiting for one, else None."""
        while len(self.in_flight) < self.depth:
            key = None
            if self.look_for_claimed:
                busy = (
                    {b.key for b, _ in self.in_flight.values()}
                    | {b.key for b in self.claimed}
                    | {b.key for b in self.recording.values()}
                )
                key = due_claimed_key(exclude=busy, keys=self.keys)
                self.look_for_claimed = key is not None
            if key is None and not self.claimed:
                return None  # nothing to send now
            slot = None
            if self.rate is not None:  # before reading the batch: most who find none leave at once
                slot = self.rate.take()
                if not isinstance(slot, Slot):
                    return slot
            batch = claimed_batch(key) if key is not None else self.claimed.popleft()
            if batch is None:  # marked meanwhile
                if slot is not None:
                    self.rate.give_back(slot)
                continue
            self.stats["batches"] += 1
            self.in_flight[self.pool.submit(self._send, batch)] = (batch, slot)
        return None

    def _claim_ahead(self) -> None:
        if self.claiming is not None or not self.pending_left or len(self.claimed) >= self.depth:
            return
        if self.look_for_claimed:  # send what is claimed already before claiming more
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
        if self.threaded:
            self.claiming = self.claimer.submit(claim_batches, **kwargs)
        else:
            self._take_claim(claim_batches(**kwargs))

    def _take_claim(self, batches: list[Batch]) -> None:
        self.claiming = None
        self.pending_left = bool(batches)
        self.claimed.extend(batches)
        if self.budget is not None:
            self.budget -= sum(len(b.emails) for b in batches)

    def _send(self, batch: Batch) -> tuple[BatchResult, float]:
        """On a sender thread: the answer, and when it came (the slot is free a window
        after that, however long the answer then waits to be recorded)."""
        try:
            result = self.sender.send(batch)
        except Exception as exc:  # a bug or an unexpected library error
            log.exception("Sending batch %s failed", batch.key)
            result = BatchResult(error=f"{type(exc).__name__}: {exc}", transient=True)
        return result, time.monotonic()

    def _record(self, future: Future) -> None:
        """The slot back to the rate now; the batch marked on the recorder thread."""
        batch, slot = self.in_flight.pop(future)
        result, answered_at = future.result()
        if slot is not None:
            self.rate.answered(
                slot,
                headers=result.headers,
                retry_after=(result.retry_after or 1.0) if result.rate_limited else None,
                seconds_ago=time.monotonic() - answered_at,
            )
        if self.threaded:
            self.recording[self.recorder.submit(record_result, batch, result, self.stats)] = batch
        else:
            record_result(batch, result, self.stats)
        if result.provider_ids is None and not result.already_accepted:
            self.look_for_claimed = True  # split or rescheduled

    def _reap_records(self, *, wait_for_all: bool = False) -> None:
        for future in list(self.recording):
            if wait_for_all or future.done():
                del self.recording[future]
                future.result()  # its error, if any, is this run's


_GO_ON = object()


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

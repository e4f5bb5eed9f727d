"""Claiming outbox rows into batches, and recording what the sender answered
(see outbox.delivery for the whole exactly-once story)."""

import datetime as dt
import hashlib
import logging
import random

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .consent import consents
from .models import OutboundEmail
from .senders import Batch, BatchResult

log = logging.getLogger(__name__)
Status = OutboundEmail.Status
BATCH_LIMIT = 100  # Resend's batch endpoint takes at most 100 emails
MAX_ERRORS_IN_STATS = 20


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


def due_claimed_key(*, exclude: set[str], keys: list[str] | None = None) -> str | None:
    """The key of a batch claimed earlier and not marked: after a crash, handed back by
    a run that let the lock go, or due for a retry (one holding one of these `keys`, if
    given); read its members with claimed_batch."""
    return (
        OutboundEmail.objects.filter(
            status=Status.SENDING, next_attempt_at__lte=timezone.now(), **_only(keys)
        )
        .exclude(batch_key__in=exclude)
        .order_by("next_attempt_at", "id")
        .values_list("batch_key", flat=True)
        .first()
    )


def claimed_batch(key: str) -> Batch | None:
    """The members still claimed by the batch `key`, in id order (the order they were sent in)."""
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


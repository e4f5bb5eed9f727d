"""Delivering what a daily job queued, once its batches have committed."""

from retention.delivery import deliver_pending
from retention.scheduling import JobContext


def deliver_queued(ctx: JobContext) -> None:
    """Drains the outbox outside any transaction; a failed email stays queued for
    deliver_emails to retry, and counts as failed so the run exits non-zero."""
    delivery = deliver_pending()
    ctx.stats["delivery"] = delivery
    ctx.stats["failed"] += delivery.get("failed", 0)
    ctx.progress(f"delivered {delivery.get('sent', 0)} email(s), {delivery.get('failed', 0)} failed")

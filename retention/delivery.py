"""Delivering the outbox. Rows are claimed, sent outside any transaction that
holds locks, and marked sent; a re-run picks up what is left."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from .emails import consents
from .models import OutboundEmail

log = logging.getLogger(__name__)
Status = OutboundEmail.Status


def deliver_soon() -> None:
    """Called after a web request's transaction commits; failures stay for deliver_emails."""
    try:
        deliver_pending()
    except Exception:  # the outbox keeps the row; deliver_emails retries it
        log.exception("Delivering right after commit failed; deliver_emails will retry")


def deliver_pending(*, limit: int | None = None) -> dict:
    """Sends pending emails through Django's email backend. Returns counts."""
    stats = {"sent": 0, "failed": 0, "suppressed": 0}
    pending = OutboundEmail.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now())
    ids = list(pending.order_by("id").values_list("id", flat=True)[:limit])
    for email in OutboundEmail.objects.filter(id__in=ids).select_related("customer").order_by("id"):
        if not consents(email.customer, email.kind):
            email.status = Status.SUPPRESSED
            email.save(update_fields=["status"])
            stats["suppressed"] += 1
            continue
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.text_body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to_email],
            headers=email.headers,
        )
        message.attach_alternative(email.html_body, "text/html")
        message.send()
        with transaction.atomic():
            OutboundEmail.objects.filter(pk=email.pk, status=Status.PENDING).update(
                status=Status.SENT, sent_at=timezone.now(), attempts=email.attempts + 1
            )
        stats["sent"] += 1
    return stats

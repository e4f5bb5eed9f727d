"""Queuing email: every email is rendered from templates/emails/<name>/ into an
outbox row written in the caller's transaction. Delivery happens after commit
(see outbox.delivery).

Consent (outbox.consent): marketing email needs the marketing opt-in and respects the
frequency cap (one per MARKETING_EMAIL_CAP_DAYS); reminders need the service-reminder
opt-in; transactional email always goes. Both are checked here and again at delivery.
"""

from functools import partial

from django.db import transaction

from retention.models import Customer

from .after_response import deliver_after_response
from .consent import consents, under_marketing_cap, unsubscribe_url
from .models import OutboundEmail
from .render import render_parts, shared_context

Kind = OutboundEmail.Kind


def build_email(
    *,
    template: str,
    customer: Customer | None,
    kind: str,
    idempotency_key: str,
    context: dict,
    to_email: str | None = None,
) -> OutboundEmail:
    """Renders an email into an unsaved outbox row (for bulk_create by batch jobs)."""
    to_email = to_email or customer.email
    context = {**shared_context(kind), "customer": customer, **context}
    headers = {}
    if kind == Kind.MARKETING and customer is not None:
        # One-click unsubscribe (RFC 8058) on every marketing email.
        link = unsubscribe_url(customer)
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    subject, text_body, html_body = render_parts(template, context)
    return OutboundEmail(
        idempotency_key=idempotency_key,
        template=template,
        kind=kind,
        customer=customer,
        to_email=to_email,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers=headers,
    )


def queue_email(
    *,
    template: str,
    customer: Customer | None,
    kind: str,
    idempotency_key: str,
    context: dict,
    to_email: str | None = None,
    deliver_after_commit: bool = True,
) -> OutboundEmail | None:
    """Writes one email to the outbox in the caller's transaction.

    Returns None (and writes nothing) when the customer has not consented or the
    marketing cap is reached. A key already queued is not queued again. The customer's
    row is locked while deciding, so two marketing emails queued at once cannot both
    pass the cap. With `deliver_after_commit`, this email (and nothing else from the
    outbox) is sent right after the caller's transaction commits (failures stay in the
    outbox for deliver_emails).
    """
    with transaction.atomic():
        if customer is not None and kind != Kind.TRANSACTIONAL:
            current = Customer.objects.select_for_update().filter(pk=customer.pk).first()
            if current is None or not consents(current, kind):
                return None
            if kind == Kind.MARKETING and not under_marketing_cap(current):
                return None
        email = build_email(
            template=template,
            customer=customer,
            kind=kind,
            idempotency_key=idempotency_key,
            context=context,
            to_email=to_email,
        )
        created = OutboundEmail.objects.bulk_create([email], ignore_conflicts=True)
    if deliver_after_commit:
        transaction.on_commit(partial(deliver_after_response, [idempotency_key]))
    return created[0]

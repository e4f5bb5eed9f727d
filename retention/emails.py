"""Queuing email: every email is rendered from templates/emails/<name>/ into an
outbox row written in the caller's transaction. Delivery happens after commit
(see retention.delivery).

Consent: marketing email needs the marketing opt-in and respects the frequency cap
(one per MARKETING_EMAIL_CAP_DAYS); reminders need the service-reminder opt-in;
transactional email always goes. Both are checked here and again at delivery.
"""

import datetime as dt
from functools import partial

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .links import absolute_url
from .locks import advisory_lock
from .models import Customer, OutboundEmail

Kind = OutboundEmail.Kind
UNSUBSCRIBE_SALT = "retention.unsubscribe"


def unsubscribe_token(customer: Customer) -> str:
    return signing.dumps({"c": customer.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def customer_for_unsubscribe_token(token: str) -> Customer | None:
    """The customer a signed unsubscribe token names, or None if it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Customer.objects.filter(pk=data.get("c")).select_related("user").first()


def unsubscribe_url(customer: Customer) -> str:
    return absolute_url(reverse("portal:unsubscribe", args=[unsubscribe_token(customer)]))


def preferences_url() -> str:
    return absolute_url(reverse("portal:email_preferences"))


def consents(customer: Customer | None, kind: str) -> bool:
    """Whether the customer agreed to this kind of email; transactional always goes."""
    if customer is None or kind == Kind.TRANSACTIONAL:
        return True
    if kind == Kind.MARKETING:
        return customer.marketing_opt_in
    return customer.service_reminders_opt_in


def marketing_cap_start(now: dt.datetime | None = None) -> dt.datetime:
    """Marketing email queued after this moment counts against the frequency cap."""
    return (now or timezone.now()) - dt.timedelta(days=settings.MARKETING_EMAIL_CAP_DAYS)


# Emails that count against the cap: queued, on their way, or delivered.
CAPPED_STATUSES = [OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING, OutboundEmail.Status.SENT]


def recent_marketing(now: dt.datetime | None = None) -> QuerySet:
    return OutboundEmail.objects.filter(
        kind=Kind.MARKETING, created_at__gt=marketing_cap_start(now), status__in=CAPPED_STATUSES
    )


def under_marketing_cap(customer: Customer, now: dt.datetime | None = None) -> bool:
    return not recent_marketing(now).filter(customer=customer).exists()


def marketing_capped(as_of_moment: dt.datetime | None = None) -> Exists:
    """The frequency cap as SQL, for annotating or filtering a Customer queryset: True
    when the customer has marketing email (any kind: seasonal, win-back) queued, on its
    way or delivered within MARKETING_EMAIL_CAP_DAYS before `as_of_moment`. The one
    cap rule every batch job uses; under_marketing_cap is the same for one customer."""
    return Exists(recent_marketing(as_of_moment).filter(customer_id=OuterRef("pk")))


def marketing_email_lock():
    """Held by each batch job that queues marketing email (seasonal, win-back) around
    its writes, waiting for the other: their in-transaction cap re-checks take no row
    lock, so two jobs writing at once could each pass the cap for the same customer.
    One job's emails are committed before the other's re-checks read the outbox."""
    return advisory_lock("marketing-email", wait=True)


def marketable_customers(customers: QuerySet, now: dt.datetime | None = None) -> QuerySet:
    """Narrows a Customer queryset to those a marketing email may go to now: opted in
    and under the frequency cap. One query, for batch jobs."""
    return customers.filter(~marketing_capped(now), marketing_opt_in=True)


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
    context = {"customer": customer, "site_url": settings.SITE_URL, "preferences_url": preferences_url(), **context}
    headers = {}
    if kind == Kind.MARKETING and customer is not None:
        # One-click unsubscribe (RFC 8058) on every marketing email.
        link = unsubscribe_url(customer)
        context["unsubscribe_url"] = link
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    folder = f"emails/{template}"
    # The subject and text part are plain text: rendered without HTML escaping.
    subject = " ".join(render_to_string(f"{folder}/subject.txt", context, using="text").split())
    return OutboundEmail(
        idempotency_key=idempotency_key,
        template=template,
        kind=kind,
        customer=customer,
        to_email=to_email,
        subject=subject,
        text_body=render_to_string(f"{folder}/body.txt", context, using="text"),
        html_body=render_to_string(f"{folder}/body.html", context),
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
        from .delivery import deliver_after_response

        transaction.on_commit(partial(deliver_after_response, [idempotency_key]))
    return created[0]

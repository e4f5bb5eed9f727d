"""Who may be mailed, and changing it: the marketing opt-in and the service-reminder
preference, one-click unsubscribe tokens and links, and the marketing frequency cap with
the lock the marketing jobs share. The outbox asks here when it queues and again when it
delivers; the batch jobs ask here for their SQL."""

import datetime as dt
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import get_script_prefix, get_urlconf, reverse

from retention.clock import business_today
from retention.links import absolute_url
from retention.locks import advisory_lock
from retention.models import Customer

from .models import OutboundEmail

Kind = OutboundEmail.Kind
UNSUBSCRIBE_SALT = "retention.unsubscribe"


def unsubscribe_token(customer: Customer) -> str:
    return _unsubscribe_token(customer.pk)


def _unsubscribe_token(customer_id: int) -> str:
    return signing.dumps({"c": customer_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def customer_for_unsubscribe_token(token: str) -> Customer | None:
    """The customer a signed unsubscribe token names, or None if it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Customer.objects.filter(pk=data.get("c")).select_related("user").first()


def unsubscribe_url(customer: Customer) -> str:
    return unsubscribe_url_for(customer.pk)


@lru_cache
def _unsubscribe_path(prefix: str, urlconf: str | None, root_urlconf: str) -> str:
    # Cached (per URLconf): batch jobs build one link per email, and reverse() costs
    # more than signing the token.
    return reverse("portal:unsubscribe", args=["-"])


def unsubscribe_url_for(customer_id: int, path: str | None = None) -> str:
    """The customer's one-click unsubscribe link. `path`: unsubscribe_path_template(),
    resolved beforehand (by a thread that has the request's URL prefix)."""
    path = path or unsubscribe_path_template()
    return absolute_url(path.replace("/-/", f"/{_unsubscribe_token(customer_id)}/"))


def unsubscribe_path_template() -> str:
    """The unsubscribe path with "-" where the token goes."""
    return _unsubscribe_path(get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)


def preferences_url() -> str:
    return absolute_url(reverse("portal:email_preferences"))


def consents(customer: Customer | None, kind: str) -> bool:
    """Whether the customer agreed to this kind of email; transactional always goes."""
    if customer is None or kind == Kind.TRANSACTIONAL:
        return True
    if kind == Kind.MARKETING:
        return customer.marketing_opt_in
    return customer.service_reminders_opt_in


def marketing_cap_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The as-of days (first, last) whose marketing email caps a send as of `as_of`:
    fewer than MARKETING_EMAIL_CAP_DAYS away on either side. Both sides, so a catch-up
    run for an earlier day respects what later days' runs sent."""
    reach = dt.timedelta(days=settings.MARKETING_EMAIL_CAP_DAYS - 1)
    return as_of - reach, as_of + reach


# Emails that count against the cap: queued, on their way, or delivered.
CAPPED_STATUSES = [OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING, OutboundEmail.Status.SENT]


def recent_marketing(as_of: dt.date | None = None) -> QuerySet:
    """Marketing email that caps a send as of `as_of` (default today), by the as-of day
    recorded on each email (OutboundEmail.as_of), never the wall clock."""
    return OutboundEmail.objects.filter(
        kind=Kind.MARKETING,
        as_of__range=marketing_cap_window(as_of or business_today()),
        status__in=CAPPED_STATUSES,
    )


def under_marketing_cap(customer: Customer, as_of: dt.date | None = None) -> bool:
    return not recent_marketing(as_of).filter(customer=customer).exists()


def marketing_capped(as_of: dt.date | None = None) -> Exists:
    """The frequency cap as SQL, for annotating or filtering a Customer queryset: True
    when the customer has marketing email (any kind: seasonal, win-back) queued, on its
    way or delivered with an as-of day fewer than MARKETING_EMAIL_CAP_DAYS from `as_of`.
    The one cap rule every batch job uses; under_marketing_cap is the same for one customer."""
    return Exists(recent_marketing(as_of).filter(customer_id=OuterRef("pk")))


def marketing_email_lock():
    """Held by each batch job that queues marketing email (seasonal, win-back) around
    its writes, waiting for the other: their in-transaction cap re-checks take no row
    lock, so two jobs writing at once could each pass the cap for the same customer.
    One job's emails are committed before the other's re-checks read the outbox."""
    return advisory_lock("marketing-email", wait=True)


def marketable_customers(customers: QuerySet, as_of: dt.date | None = None) -> QuerySet:
    """Narrows a Customer queryset to those a marketing email may go to as of `as_of`:
    opted in and under the frequency cap. One query, for batch jobs."""
    return customers.filter(~marketing_capped(as_of), marketing_opt_in=True)


def update_email_preferences(
    *, customer: Customer, marketing: bool, service_reminders: bool
) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        marketing_opt_in=marketing, service_reminders_opt_in=service_reminders
    )
    customer.marketing_opt_in, customer.service_reminders_opt_in = marketing, service_reminders


def unsubscribe_from_marketing(*, customer: Customer) -> None:
    """Stops seasonal offers and win-back email; reminders and receipts still go.
    Marketing email already queued is suppressed at delivery."""
    Customer.objects.filter(pk=customer.pk).update(marketing_opt_in=False)
    customer.marketing_opt_in = False

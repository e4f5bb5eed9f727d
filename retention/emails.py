"""Queuing email: every email is rendered from templates/emails/<name>/ into an
outbox row written in the caller's transaction. Delivery happens after commit
(see retention.delivery).

Consent: marketing email needs the marketing opt-in and respects the frequency cap
(one per MARKETING_EMAIL_CAP_DAYS); reminders need the service-reminder opt-in;
transactional email always goes. Both are checked here and again at delivery.
"""

import datetime as dt
import html
import re
from dataclasses import dataclass
from functools import lru_cache, partial
from types import SimpleNamespace

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from .links import absolute_url
from .locks import advisory_lock
from .models import Customer, OutboundEmail
from .models.people import short_name

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


_SLOT_PATTERN = re.compile("\ue000([a-z_]+)\ue000")


def _slot(name: str) -> str:
    # U+E000 (private use): autoescaping leaves it alone, str.split() does not take it
    # for whitespace (as it does the ASCII separators), and no template, name or code
    # holds it.
    return f"\ue000{name}\ue000"


@dataclass(frozen=True)
class EmailStencil:
    """One email of a batch job rendered once, with each customer's own values left
    as named slots, so a batch of thousands renders its templates once instead of
    once per customer. Filling a slot is plain substitution, HTML-escaped in the HTML
    part as autoescaping would, so a filled stencil is exactly the email build_email
    renders for that customer (tests hold the two equal).

    Every stencil has the slots `short_name` (the greeting, User.get_short_name) and, for
    marketing email, `unsubscribe_url`; the caller names its own (a code, a link).
    Templates may only print a slot, not filter or test it, and a slot in the subject
    must hold no whitespace (build_email collapses the subject's whitespace).
    """

    template: str
    kind: str
    subject: str
    text_body: str
    html_body: str
    slots: tuple[str, ...]
    # Resolved when rendering: customer_values() may run on another thread, which has
    # no URL prefix or URLconf of the caller's.
    unsubscribe_path: str

    # What the rendered templates hold for a slot, for a context that puts a slot
    # inside an object (win-back's `promo.code`); render() puts each slot named in
    # `slots` in the context by its name.
    slot = staticmethod(_slot)

    @classmethod
    def render(cls, *, template: str, kind: str, context: dict, slots: tuple[str, ...] = ()) -> "EmailStencil":
        slots = ("short_name", *(("unsubscribe_url",) if kind == Kind.MARKETING else ()), *slots)
        stand_in = SimpleNamespace(user=SimpleNamespace(get_short_name=_slot("short_name")))
        context = {
            "customer": stand_in,
            "site_url": settings.SITE_URL,
            "preferences_url": preferences_url(),
            **context,
            **{name: _slot(name) for name in slots if name != "short_name"},
        }
        folder = f"emails/{template}"
        return cls(
            template=template,
            kind=kind,
            subject=" ".join(render_to_string(f"{folder}/subject.txt", context, using="text").split()),
            text_body=render_to_string(f"{folder}/body.txt", context, using="text"),
            html_body=render_to_string(f"{folder}/body.html", context),
            slots=slots,
            unsubscribe_path=unsubscribe_path_template(),
        )

    def fill(self, **values: str) -> tuple[str, str, str]:
        """(subject, text, HTML) with the slots filled in Python, for a job that writes
        its rows from Python (fill_sql() is the same done by the database)."""
        subject, text, html_body = self.subject, self.text_body, self.html_body
        for name, value in values.items():
            subject = subject.replace(_slot(name), value)
            text = text.replace(_slot(name), value)
            html_body = html_body.replace(_slot(name), html.escape(value))
        return subject, text, html_body

    def customer_slots(self) -> tuple[str, ...]:
        """The columns customer_values() gives: the slots every stencil has, each
        also HTML-escaped (`<slot>_html`)."""
        own = ("short_name", "unsubscribe_url") if "unsubscribe_url" in self.slots else ("short_name",)
        return tuple(name for slot in own for name in (slot, f"{slot}_html"))

    def customer_values(self, customer_id: int, email: str, name: str):
        """(column, value) for customer_slots(), for the row fill_sql() reads; the
        caller provides its own slots' columns (and their `_html` versions)."""
        greeting = short_name(name, email)
        # html.escape is what Django's escape() applies, without its lazy-string
        # wrapper (a third of the time here, once per value per customer).
        yield "short_name", greeting
        yield "short_name_html", html.escape(greeting)
        if "unsubscribe_url" in self.slots:
            link = unsubscribe_url_for(customer_id, self.unsubscribe_path)
            yield "unsubscribe_url", link
            yield "unsubscribe_url_html", html.escape(link)

    def headers_sql(self, row: str) -> str:
        """The outbox row's headers as SQL (one-click unsubscribe for marketing)."""
        if self.kind != Kind.MARKETING:
            return "'{}'::jsonb"
        return (
            f"jsonb_build_object('List-Unsubscribe', '<' || {row}.unsubscribe_url || '>', "
            "'List-Unsubscribe-Post', 'List-Unsubscribe=One-Click')"
        )

    PARTS = ("subject", "text_body", "html_body")

    def _pieces(self, part: str) -> list[str]:
        """The part split at its slots: text, slot name, text, slot name, ..., text."""
        return _SLOT_PATTERN.split(getattr(self, part))

    def fill_sql(self, part: str, row: str) -> str:
        """SQL filling one part ("subject", "text_body", "html_body") from the columns
        of `row` (customer_values() and the caller's own): one concat() of the part's
        text between its slots and the row's values, which builds each email in one
        pass (a replace() per slot copied the whole email once per slot)."""
        suffix = "_html" if part == "html_body" else ""
        pieces = self._pieces(part)
        if len(pieces) == 1:
            return f"%(stencil_{part}_0)s"
        return "concat({})".format(
            ", ".join(
                f"%(stencil_{part}_{index})s::text" if index % 2 == 0 else f"{row}.{piece}{suffix}"
                for index, piece in enumerate(pieces)
            )
        )

    def sql_params(self) -> dict[str, str]:
        """The text between the slots, for fill_sql()."""
        return {
            f"stencil_{part}_{index}": piece
            for part in self.PARTS
            for index, piece in enumerate(self._pieces(part))
            if index % 2 == 0
        }


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

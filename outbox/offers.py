"""Personal offers written a batch at a time: for each customer a promo code, the job's
record of the send, a notification and the email, in one statement per batch.

The seasonal and win-back jobs both offer this way. A run describes its offer once (an
Offer: the discount, the email rendered once as an EmailStencil, the SQL re-checking
that a customer is still eligible, the SQL recording the job's send). Per batch, Python
makes only what it alone can, per customer (offer_values: the code, the greeting, the
signed unsubscribe link), and write_offers() sends those as arrays into one statement
that re-checks each customer and writes every row, the code going into the booking
link, the notification and the email inside the database (outbox.batch_queue, the one
way batch jobs write queued emails; every table and column name from the models).
"""

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import RawSQL
from django.utils import timezone

from retention.bulk import Same, Step, column_type, insert_step
from retention.links import absolute_url
from retention.models import Customer, Notification, PromoCode, ServiceType
from retention.models.promo import generate_code

from .batch_queue import queue_batch, queued_emails
from .render import escape_as_inlined
from .stencil import EmailStencil

# Stands for the code in what the batch statement fills in: URL-safe and HTML-safe as
# codes are (letters, digits and dashes), with a 0, which codes never have.
CODE_PLACEHOLDER = "CODE0PLACEHOLDER"


class Recipient(NamedTuple):
    customer_id: int
    email: str
    name: str


@dataclass(frozen=True)
class Offer:
    """What a run offers every customer of it, besides their own code."""

    source: str  # PromoCode.Source
    as_of: dt.date  # the run's as-of day, recorded on each email (the marketing cap counts by it)
    discount_percent: Decimal
    expires_at: dt.datetime
    service_types: list[int]  # the codes cover these; none means every service
    book_path: str  # the booking link, CODE_PLACEHOLDER where the code goes
    notification_kind: str
    notification_title: str
    notification_message: str  # CODE_PLACEHOLDER where the code goes
    email: EmailStencil  # with the slots "code" and "book_url"
    email_key: str  # the outbox idempotency key is "<email_key>/<send id>"
    # SELECT finding the customer of the statement's current `given` row if they are
    # still eligible (see correlated_sql).
    still_eligible_sql: str
    # The job's record of each send (CampaignSend, WinbackSend): a row with the
    # customer and the promo code, and these values of its own (attname: SQL or Same).
    send_model: type[Model]
    send_values: dict
    # Holdout groups (experiments.assign.Holdout): the INSERT recording the customers of
    # `sends` as mailed and of `held_out` as held out; the default records nothing.
    record_assignments_sql: str = "SELECT 1"
    record_assignments_params: dict = field(default_factory=dict)


class Written(NamedTuple):
    """What a batch statement wrote: customers sent their offer, and held out."""

    sent: int
    held_out: int


def correlated_sql(queryset) -> str:
    """A customer queryset's SQL with its parameters inlined, narrowed to the customer
    of the batch statement's current `given` row, for Offer.still_eligible_sql: PostgreSQL
    probes the indexes once per row of the batch. Compile it once a run."""
    query = queryset.filter(pk=RawSQL("given.customer_id", ())).order_by().values("pk").query
    return connection.ops.compose_sql(*query.sql_with_params()).replace("%", "%%")


def offer_values(offer: Offer, recipients: Iterable[Recipient]) -> dict[str, list]:
    """A batch's per-customer values, column by column, made in Python because only
    Python can: the code, the greeting and the signed unsubscribe link. No database
    access, so it can run on another thread (see made_ahead)."""
    stencil = offer.email
    columns = {name: [] for name in ("customer_id", "email", "code", *stencil.customer_slots())}
    for customer_id, email, name in recipients:
        columns["customer_id"].append(customer_id)
        columns["email"].append(email)
        columns["code"].append(generate_code())
        for slot, value in stencil.customer_values(customer_id, email, name):
            columns[slot].append(value)
    return columns


# The batch's customers still eligible, with what their rows say: the code goes into
# the links and the message as is (it reads the same URL-encoded or HTML-escaped).
BATCH_SQL = """
    SELECT given.*, code AS code_html,
           replace(%(book_path)s, %(placeholder)s, code) AS book_path,
           replace(%(book_url)s, %(placeholder)s, code) AS book_url,
           replace(%(book_url_html)s, %(placeholder)s, code) AS book_url_html,
           replace(%(notification_message)s, %(placeholder)s, code) AS notification_message
    FROM given
    WHERE EXISTS ({still_eligible})
"""


def offer_steps(offer: Offer) -> list[Step]:
    """What a batch writes before its emails, in order: the eligible customers
    (`batch`), their codes, the codes' service types, the job's sends and the
    notifications. A step added here (a table more) is written by the same statement."""
    service_type_id = column_type(ServiceType._meta.pk)
    return [
        Step("batch", BATCH_SQL.format(still_eligible=offer.still_eligible_sql)),
        insert_step(
            "codes",
            PromoCode,
            {
                "code": "code",
                "customer_id": "customer_id",
                "source": Same(offer.source),
                "discount_type": Same(PromoCode.DiscountType.PERCENT),
                "discount_value": Same(offer.discount_percent),
                "expires_at": Same(offer.expires_at),
                "created_at": "%(now)s",
            },
            source="batch",
            returning=("id", "customer_id"),
        ),
        insert_step(
            "covered",
            PromoCode.service_types.through,
            {"promocode_id": "codes.id", "servicetype_id": "service_type"},
            source=f"codes CROSS JOIN unnest(%(service_types)s::{service_type_id}[]) AS service_type",
        ),
        insert_step(
            "sends",
            offer.send_model,
            {"customer_id": "customer_id", "promo_code_id": "id", **offer.send_values},
            source="codes",
            returning=("id", "customer_id"),
        ),
        insert_step(
            "notifications",
            Notification,
            {
                "id": "gen_random_uuid()",
                "customer_id": "customer_id",
                "kind": Same(offer.notification_kind),
                "title": Same(offer.notification_title),
                "message": "notification_message",
                "action_url": "book_path",
                "created_at": "%(now)s",
            },
            source="batch",
        ),
    ]


def holdout_steps(offer: Offer) -> list[Step]:
    """The batch's holdout group (experiments.assign): the `held_out` customers still
    eligible, sent nothing, and the record of who was mailed (`sends`) or held out."""
    return [
        Step(
            "held_out",
            f"""SELECT given.customer_id FROM unnest(%(held_out)s::{column_type(Customer._meta.pk)}[])
                AS given (customer_id) WHERE EXISTS ({offer.still_eligible_sql})""",
        ),
        Step("assignments", offer.record_assignments_sql),
    ]


def write_offers(offer: Offer, columns: dict[str, list], held_out: list[int] = ()) -> Written:
    """Writes codes, their service types, sends, notifications and emails for those of
    a batch (its offer_values()) who are still eligible, in one statement
    (outbox.batch_queue), and records the batch's still eligible `held_out` customers
    (their ids) with the mailed ones (Offer.record_assignments_sql); returns how many
    were sent and held out. Run it in a transaction: a batch that meets an existing
    send (a unique constraint) fails whole, so no code exists without its send, nor a
    send without its email."""
    stencil = offer.email
    now = timezone.now()
    customer_id = column_type(Customer._meta.pk)
    book_url = absolute_url(offer.book_path)
    sent, held = queue_batch(
        given=columns,
        types={name: customer_id if name == "customer_id" else "text" for name in columns},
        steps=[*offer_steps(offer), *holdout_steps(offer)],
        emails=queued_emails(
            source="sends JOIN batch b USING (customer_id)",
            row="b",
            key="%(email_key)s || '/' || sends.id",
            template=stencil.template,
            kind=stencil.kind,
            now=now,
            as_of=offer.as_of,
            stencil=stencil,
        ),
        counts=("sends", "held_out"),
        params={
            **offer.record_assignments_params,
            "held_out": list(held_out),
            "placeholder": CODE_PLACEHOLDER,
            "book_path": offer.book_path,
            "book_url": book_url,
            "book_url_html": escape_as_inlined(book_url),
            "notification_message": offer.notification_message,
            "service_types": offer.service_types,
            "email_key": offer.email_key,
            "now": now,
        },
    )
    return Written(sent, held)


def made_ahead(make: Callable, items: list):
    """(item, make(item)) for each item in order, each made on a worker thread while
    the caller works on the one before: the next batch's values are made while the
    database writes this one, so Python and PostgreSQL use both cores. `make` must not
    touch the database (the thread has no connection of the caller's)."""
    if not items:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="offer-values") as worker:
        upcoming = worker.submit(make, items[0])
        for index, item in enumerate(items):
            made = upcoming.result()
            if index + 1 < len(items):
                upcoming = worker.submit(make, items[index + 1])
            yield item, made

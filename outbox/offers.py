"""Personal offers written a batch at a time: for each customer a promo code, the job's
record of the send, a notification and the email, in one statement per batch.

The seasonal and win-back jobs both offer this way. A run describes its offer once (an
Offer: the discount, the email rendered once as an EmailStencil, the SQL re-checking
that a customer is still eligible, the SQL recording the job's send). Per batch, Python
makes only what it alone can, per customer (offer_values: the code, the greeting, the
signed unsubscribe link), and write_offers() sends those as arrays into one statement
that re-checks each customer and writes every row, the code going into the booking
link, the notification and the email inside the database.
"""

import datetime as dt
import html
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone

from retention.bulk import binding_cursor
from retention.links import absolute_url
from retention.models.promo import generate_code

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
    # still eligible (see correlated_sql), and the INSERT of the job's send rows from
    # `codes` (id, customer_id), returning the sends' id and customer_id.
    still_eligible_sql: str
    record_sends_sql: str
    record_sends_params: dict
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


# One batch, one statement. Each data-modifying CTE runs exactly once whether or not
# the final SELECT reads it.
WRITE_OFFERS_SQL = """
WITH given AS (
    SELECT * FROM unnest(
        %(customer_id)b::bigint[], %(email)b::text[], %(code)b::text[], %(short_name)b::text[],
        %(short_name_html)b::text[], %(unsubscribe_url)b::text[], %(unsubscribe_url_html)b::text[]
    ) AS given (customer_id, email, code, short_name, short_name_html, unsubscribe_url, unsubscribe_url_html)
), batch AS (
    -- The code goes into the links and the message as is: it reads the same
    -- URL-encoded or HTML-escaped.
    SELECT given.*, code AS code_html,
           replace(%(book_path)s, %(placeholder)s, code) AS book_path,
           replace(%(book_url)s, %(placeholder)s, code) AS book_url,
           replace(%(book_url_html)s, %(placeholder)s, code) AS book_url_html,
           replace(%(notification_message)s, %(placeholder)s, code) AS notification_message
    FROM given
    WHERE EXISTS ({still_eligible})
), codes AS (
    INSERT INTO retention_promocode (code, customer_id, source, discount_type, discount_value, expires_at, created_at)
    SELECT code, customer_id, %(source)s, 'percent', %(discount)s, %(expires_at)s, %(now)s FROM batch
    RETURNING id, customer_id
), covered AS (
    INSERT INTO retention_promocode_service_types (promocode_id, servicetype_id)
    SELECT codes.id, service_type FROM codes CROSS JOIN unnest(%(service_types)s::bigint[]) AS service_type
), sends AS (
    {record_sends}
), notifications AS (
    INSERT INTO retention_notification (id, customer_id, kind, title, message, action_url, created_at)
    SELECT gen_random_uuid(), customer_id, %(notification_kind)s, %(notification_title)s, notification_message,
           book_path, %(now)s
    FROM batch
), emails AS (
    INSERT INTO retention_outboundemail (
        idempotency_key, template, kind, customer_id, to_email, subject, text_body, html_body, headers,
        status, attempts, last_error, provider_message_id, next_attempt_at, batch_key, created_at, as_of)
    SELECT %(email_key)s || '/' || sends.id, %(template)s, %(kind)s, b.customer_id, b.email, {subject},
           {text_body}, {html_body}, {headers}, 'pending', 0, '', '', %(now)s, '', %(now)s, %(email_as_of)s
    FROM sends JOIN batch b USING (customer_id)
    ON CONFLICT (idempotency_key) DO NOTHING
), held_out AS (
    -- The batch's holdout group (experiments.assign): still eligible, sent nothing.
    SELECT given.customer_id FROM unnest(%(held_out)s::bigint[]) AS given (customer_id)
    WHERE EXISTS ({still_eligible})
), assignments AS (
    {record_assignments}
)
SELECT (SELECT count(*) FROM sends), (SELECT count(*) FROM held_out)
"""


def write_offers(offer: Offer, columns: dict[str, list], held_out: list[int] = ()) -> Written:
    """Writes codes, their service types, sends, notifications and emails for those of
    a batch (its offer_values()) who are still eligible, in one statement, and records
    the batch's still eligible `held_out` customers (their ids) with the mailed ones
    (Offer.record_assignments_sql); returns how many were sent and held out. Run it in
    a transaction: a batch that meets an existing send (a unique constraint) fails
    whole, so no code exists without its send, nor a send without its email."""
    stencil = offer.email
    statement = WRITE_OFFERS_SQL.format(
        still_eligible=offer.still_eligible_sql,
        record_sends=offer.record_sends_sql,
        record_assignments=offer.record_assignments_sql,
        subject=stencil.fill_sql("subject", "b"),
        text_body=stencil.fill_sql("text_body", "b"),
        html_body=stencil.fill_sql("html_body", "b"),
        headers=stencil.headers_sql("b"),
    )
    book_url = absolute_url(offer.book_path)
    params = {
        **columns,
        **stencil.sql_params(),
        **offer.record_sends_params,
        **offer.record_assignments_params,
        "held_out": list(held_out),
        "placeholder": CODE_PLACEHOLDER,
        "book_path": offer.book_path,
        "book_url": book_url,
        "book_url_html": html.escape(book_url),
        "notification_kind": offer.notification_kind,
        "notification_title": offer.notification_title,
        "notification_message": offer.notification_message,
        "source": offer.source,
        "discount": offer.discount_percent,
        "expires_at": offer.expires_at,
        "service_types": offer.service_types,
        "email_key": offer.email_key,
        "email_as_of": offer.as_of,
        "template": stencil.template,
        "kind": stencil.kind,
        "now": timezone.now(),
    }
    with binding_cursor() as cursor:  # the arrays go in binary, apart from the SQL
        cursor.execute(statement, params)
        sent, held = cursor.fetchone()
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

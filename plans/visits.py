"""The daily schedule_plan_visits job: books each active subscription's next visits up
to PLAN_BOOK_AHEAD_DAYS ahead (the previous visit's plan date + the interval), with a
provider of the service who has room that day or the next day that has one, at the
plan's discount, and queues one transactional email per booked visit.

Set-based: one query selects every subscription with a visit to book (its last kept
visit's date read through the (subscription, date) index), two read the providers and
their days; the dates and providers are worked out in Python with the same rules
subscribing uses (plans.services); then each batch is one statement that writes its
visits and jobs (re-checking that each subscription is still active, and locking it
against a pause or cancel meanwhile) and one that writes its emails. A visit is booked
once per subscription and date: the database's unique (subscription, date) refuses a
second, so a second run, the same day or at the same moment, books nothing again.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateField, ExpressionWrapper, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from outbox.batch_queue import queue_batch, queued_emails
from outbox.consent import Kind
from outbox.stencil import EmailStencil
from retention.bulk import binding_cursor, column_type
from retention.models import Customer, Job
from retention.models.people import short_name
from retention.scheduling import JobContext

from .models import Plan, PlanVisit, Subscription
from .services import ProviderDays, visit_dates_to_book, visit_price

TEMPLATE = "plan_visit_booked"
PLANS_PATH = "/customer-portal/plans/"
MOVED_SHOWN = 20  # visits moved to a later day listed in the stats, at most


def visit_email_context(*, plan_name: str, interval_days: int, service: str, day: dt.date, provider: str, price) -> dict:
    """What the plan visit emails say (plan_visit_booked, plan_subscribed)."""
    return {
        "plan": {"name": plan_name, "interval_days": interval_days},
        "service": service,
        "visit_on": f"{day:%A, %B} {day.day}",
        "provider": provider,
        "price": price,
        "plans_url": settings.SITE_URL + PLANS_PATH,
    }


def last_kept_visit() -> Subquery:
    """A subscription's latest visit date that still counts (booked, done or skipped)."""
    return Subquery(
        PlanVisit.objects.filter(subscription_id=OuterRef("pk"))
        .exclude(status=PlanVisit.Status.CALLED_OFF)
        .order_by("-scheduled_for")
        .values("scheduled_for")[:1]
    )


def subscriptions_due(as_of: dt.date):
    """Active subscriptions whose next visit falls within PLAN_BOOK_AHEAD_DAYS of as_of."""
    horizon = as_of + dt.timedelta(days=settings.PLAN_BOOK_AHEAD_DAYS)
    next_anchor = Coalesce(
        ExpressionWrapper(F("last_visit") + F("plan__interval_days"), output_field=DateField()), F("start_date")
    )
    return (
        Subscription.objects.filter(status=Subscription.Status.ACTIVE)
        .annotate(last_visit=last_kept_visit())
        .annotate(next_anchor=next_anchor)
        .filter(next_anchor__lte=horizon)
    )


@dataclass(frozen=True)
class Due:
    subscription_id: uuid.UUID
    customer_id: int
    start_date: dt.date
    last_visit: dt.date | None
    plan_id: uuid.UUID
    service_type_id: int
    customer_email: str
    customer_name: str


DUE_FIELDS = [
    "pk", "customer_id", "start_date", "last_visit", "plan_id", "plan__service_type_id",
    "customer__user__email", "customer__user__name",
]


@dataclass(frozen=True)
class Booking:
    """A visit to write: its plan date, the day and provider it is booked with."""

    due: Due
    plan_date: dt.date
    day: dt.date
    provider_id: int
    job_id: uuid.UUID


def plan_facts(plan_ids) -> dict:
    """Plan id -> (name, interval, discount, service name, list price); one query."""
    return {
        pk: row
        for pk, *row in Plan.objects.filter(pk__in=plan_ids).values_list(
            "pk", "name", "interval_days", "discount_percent", "service_type__name", "service_type__base_price"
        )
    }


def write_batch(bookings: list[Booking], *, plans: dict, render, now: dt.datetime, as_of: dt.date) -> tuple[int, int]:
    """Writes a batch's visits and jobs in one statement and their emails in a second,
    in one transaction; returns (visits booked, emails queued)."""
    job_meta, visit_meta, sub_meta, plan_meta = Job._meta, PlanVisit._meta, Subscription._meta, Plan._meta
    q = connection.ops.quote_name

    def col(meta, name):
        return q(meta.get_field(name).column)

    columns = {
        "subscription_id": ("uuid", [b.due.subscription_id for b in bookings]),
        "plan_date": ("date", [b.plan_date for b in bookings]),
        "job_id": ("uuid", [b.job_id for b in bookings]),
        "provider_id": ("bigint", [b.provider_id for b in bookings]),
        "day": ("date", [b.day for b in bookings]),
        "price": ("numeric", [plans[b.due.plan_id][4] for b in bookings]),
        "amount": (
            "numeric",
            [visit_price(list_price=plans[b.due.plan_id][4], discount_percent=plans[b.due.plan_id][2]) for b in bookings],
        ),
    }
    arrays = ", ".join(f"%b::{kind}[]" for kind, _values in columns.values())
    sql = f"""
        WITH given AS (
            SELECT * FROM unnest({arrays}) AS given ({", ".join(columns)})
        ),
        still_active AS (
            SELECT given.*, sub.{col(sub_meta, "customer")} AS customer_id, plan.{col(plan_meta, "service_type")} AS service_type_id
            FROM given
            JOIN {q(sub_meta.db_table)} sub ON sub.{col(sub_meta, "id")} = given.subscription_id
                AND sub.{col(sub_meta, "status")} = %b
            JOIN {q(plan_meta.db_table)} plan ON plan.{col(plan_meta, "id")} = sub.{col(sub_meta, "plan")}
            FOR SHARE OF sub
        ),
        visits AS (
            INSERT INTO {q(visit_meta.db_table)} ({col(visit_meta, "subscription")}, {col(visit_meta, "job")},
                {col(visit_meta, "scheduled_for")}, {col(visit_meta, "status")}, {col(visit_meta, "created_at")})
            SELECT subscription_id, job_id, plan_date, %b, %b FROM still_active
            ON CONFLICT DO NOTHING
            RETURNING {col(visit_meta, "id")} AS visit_id, {col(visit_meta, "job")} AS job_id
        ),
        jobs AS (
            INSERT INTO {q(job_meta.db_table)} ({col(job_meta, "id")}, {col(job_meta, "customer")},
                {col(job_meta, "provider")}, {col(job_meta, "service_type")}, {col(job_meta, "scheduled_for")},
                {col(job_meta, "status")}, {col(job_meta, "price")}, {col(job_meta, "amount_paid")},
                {col(job_meta, "created_at")})
            SELECT job_id, customer_id, provider_id, service_type_id, day, %b, price, amount, %b
            FROM still_active JOIN visits USING (job_id)
            RETURNING {col(job_meta, "id")} AS job_id
        )
        SELECT visits.visit_id, visits.job_id FROM visits JOIN jobs USING (job_id)
    """
    params = [
        *(values for _kind, values in columns.values()),
        # .value: psycopg would send an Enum member by its name
        Subscription.Status.ACTIVE.value, PlanVisit.Status.BOOKED.value, now, Job.Status.SCHEDULED.value, now,
    ]
    by_job = {b.job_id: b for b in bookings}
    with transaction.atomic():
        with binding_cursor() as cursor:
            cursor.execute(sql, params)
            booked = cursor.fetchall()
        columns = {name: [] for name in ("key", "customer_id", "email", "subject", "text_body", "html_body")}
        for visit_id, job_id in booked:
            booking = by_job[job_id]
            due = booking.due
            stencil = render(due.plan_id, booking.day, booking.provider_id)
            subject, text, html = stencil.fill(short_name=short_name(due.customer_name, due.customer_email))
            row = (f"plan_visit/{visit_id}", due.customer_id, due.customer_email, subject, text, html)
            for values, value in zip(columns.values(), row, strict=True):
                values.append(value)
        emails = 0
        if booked:  # the one way batch jobs queue email, each row with the run's as-of day
            (emails,) = queue_batch(
                given=columns,
                types={name: column_type(Customer._meta.pk) if name == "customer_id" else "text" for name in columns},
                steps=[],
                emails=queued_emails(
                    source="given",
                    row="given",
                    key="given.key",
                    template=TEMPLATE,
                    kind=Kind.TRANSACTIONAL,
                    now=now,
                    as_of=as_of,
                ),
            )
    return len(booked), emails


def email_renderer(plans: dict, provider_names: dict):
    """The visit email for (plan, day, provider), rendered once each within a run."""

    @lru_cache(maxsize=4096)
    def render(plan_id, day: dt.date, provider_id: int) -> EmailStencil:
        name, interval, discount, service, list_price = plans[plan_id]
        return EmailStencil.render(
            template=TEMPLATE,
            kind=Kind.TRANSACTIONAL,
            context=visit_email_context(
                plan_name=name, interval_days=interval, service=service, day=day,
                provider=provider_names[provider_id], price=visit_price(list_price=list_price, discount_percent=discount),
            ),
        )

    return render


def schedule_plan_visits(ctx: JobContext, *, batch_size: int | None = None) -> None:
    """The selection-and-write phase of schedule_plan_visits (delivery is the caller's)."""
    batch_size = batch_size or settings.JOB_BATCH_SIZE
    as_of = ctx.as_of
    due = [Due(*row) for row in subscriptions_due(as_of).order_by("pk").values_list(*DUE_FIELDS)]
    plans = plan_facts({d.plan_id for d in due})
    wanted = [
        (d, plan_date)
        for d in due
        for plan_date in visit_dates_to_book(
            last_visit=d.last_visit, start_date=d.start_date, interval_days=plans[d.plan_id][1], as_of=as_of
        )
    ]
    skipped = {"noProviderFree": 0, "alreadyBooked": 0}
    ctx.stats.update(subscriptions=len(due), eligible=len(wanted), booked=0, skippedByReason=skipped, movedToLaterDay=0)
    ctx.progress(f"{len(due)} subscription(s) with {len(wanted)} visit(s) to book up to {settings.PLAN_BOOK_AHEAD_DAYS} days ahead")
    if not wanted:
        return
    days = ProviderDays(
        service_type_ids={d.service_type_id for d in due},
        first_day=min(plan_date for _d, plan_date in wanted),
        last_day=max(plan_date for _d, plan_date in wanted),
    )
    bookings, moved = [], []
    for d, plan_date in wanted:
        taken = days.take(service_type_id=d.service_type_id, day=plan_date)
        if taken is None:
            skipped["noProviderFree"] += 1
            continue
        provider_id, day = taken
        if day != plan_date:
            moved.append({"subscription": str(d.subscription_id), "planDate": plan_date.isoformat(), "bookedFor": day.isoformat()})
        bookings.append(Booking(due=d, plan_date=plan_date, day=day, provider_id=provider_id, job_id=uuid.uuid4()))
    ctx.stats["movedToLaterDay"] = len(moved)
    if moved:
        ctx.stats["moved"] = moved[:MOVED_SHOWN]
        ctx.progress(f"{len(moved)} visit(s) moved to the next day a provider is free")
    ctx.stats["skipped"] = skipped["noProviderFree"]
    if ctx.dry_run:
        return
    render = email_renderer(plans, days.names)
    now = timezone.now()
    for start in range(0, len(bookings), batch_size):
        batch = bookings[start : start + batch_size]
        try:
            booked, emails = write_batch(batch, plans=plans, render=render, now=now, as_of=as_of)
        except Exception as exc:  # one bad batch must not stop the rest; tomorrow books it
            ctx.stats["failed"] += len(batch)
            ctx.stats.setdefault("errors", []).append(f"{type(exc).__name__}: {exc}")
            ctx.progress(f"batch of {len(batch)} visit(s) failed: {exc}")
            continue
        ctx.stats["booked"] += booked
        ctx.stats["sent"] += emails
        if already := len(batch) - booked:  # booked meanwhile, or the plan paused or cancelled
            skipped["alreadyBooked"] += already
            ctx.stats["skipped"] += already
        ctx.progress(f"booked {ctx.stats['booked']}/{len(bookings)} visit(s)")

"""The daily service-due reminder job (check_service_due).

A completed job whose next due date lies from 30 days before to 3 days after the
as-of day is reminded once for that due date, unless the customer booked the same
service again since or turned service reminders off. The ServiceReminder row is the
"reminded" marker: it, the notification and the email are written in one
transaction per batch of customers, and each customer gets one email listing every
service of theirs due. Delivery happens after the writes, outside any transaction.

A batch is two statements, whatever its size: the reminders' INSERT ... SELECT
re-checks eligibility and returns what the emails need, then one statement writes
the notifications and the emails from arrays (outbox.batch_queue, the one way batch
jobs queue email). An email is rendered through the templates once per distinct list
of services due (their names, in order), for any customer, due dates and providers,
and each customer's name and each service's due date and provider are put in after
(outbox.stencil.EmailStencil).
"""

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from outbox.batch_queue import queue_batch, queued_emails
from outbox.consent import Kind
from outbox.stencil import EmailStencil
from retention.bulk import Same, Step, batch_sql, column_type, insert_step
from retention.links import absolute_url, booking_url
from retention.models import Customer, Job, Notification
from retention.models.people import short_name
from retention.scheduling import JobContext

from .models import SERVICE_DUE_NOTICE, ServiceReminder
from .selectors import rebooked_since_completion, tel_href, urgency_for, when_due

REMIND_OVERDUE_DAYS = 30  # older overdue services belong to win-back
REMIND_AHEAD_DAYS = 3
TEMPLATE = "service_due"
# Distinct email contents kept rendered in a run (a few KB each): enough for every
# customer due one service (one per service, provider and due date) to hit.
RENDER_CACHE_SIZE = 4096


def due_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    return as_of - dt.timedelta(days=REMIND_OVERDUE_DAYS), as_of + dt.timedelta(days=REMIND_AHEAD_DAYS)


def already_reminded() -> Exists:
    return Exists(ServiceReminder.objects.filter(job_id=OuterRef("pk"), due_date=OuterRef("next_due_date")))


def jobs_in_window(as_of: dt.date) -> QuerySet:
    start, end = due_window(as_of)
    return Job.objects.filter(status=Job.Status.COMPLETED, next_due_date__gte=start, next_due_date__lte=end)


def customer_wants_reminders() -> Exists:
    """The job's customer has service reminders on and an active account. An EXISTS
    rather than a join: joined, PostgreSQL read the whole customer table once per batch
    (3 ms a batch at 50,000 customers, and growing with them) instead of looking the
    batch's customers up by id."""
    return Exists(
        Customer.objects.filter(pk=OuterRef("customer_id"), service_reminders_opt_in=True, user__is_active=True)
    )


def reminder_targets(as_of: dt.date) -> QuerySet:
    """Due jobs to remind: not reminded for this due date, not booked again, reminders on,
    the customer's account active."""
    return jobs_in_window(as_of).filter(
        ~already_reminded(), ~rebooked_since_completion(as_of), customer_wants_reminders()
    )


def select_targets(as_of: dt.date) -> tuple[dict, list[tuple[int, object]]]:
    """The jobs to remind as (customer id, job id) in customer order, and how many jobs
    in the window are skipped by reason, each under its first reason. Three queries,
    each filtering with EXISTS so PostgreSQL plans anti-joins rather than a subquery
    per row."""
    window = jobs_in_window(as_of)
    not_reminded = window.filter(~already_reminded())
    due, not_reminded_count = window.count(), not_reminded.count()
    rows = list(
        not_reminded.filter(~rebooked_since_completion(as_of))
        .order_by("customer_id")
        .values_list("customer_id", "pk", "customer__service_reminders_opt_in", "customer__user__is_active")
    )
    reminders_on = [row for row in rows if row[2]]
    targets = [(customer_id, pk) for customer_id, pk, _on, account_active in reminders_on if account_active]
    skipped = {
        "alreadyReminded": due - not_reminded_count,
        "rebooked": not_reminded_count - len(rows),
        "remindersOff": len(rows) - len(reminders_on),
        "deactivated": len(reminders_on) - len(targets),
    }
    return {"due": due, "skipped": skipped}, targets


def customer_batches(targets: list[tuple[int, object]], size: int):
    """(customer ids, how many of their jobs were selected) in batches of at most `size`
    customers; `targets` is in customer order, so a customer is never split."""
    customers, jobs = [], 0
    for customer_id, rows in groupby(targets, key=lambda row: row[0]):
        if len(customers) == size:
            yield customers, jobs
            customers, jobs = [], 0
        customers.append(customer_id)
        jobs += sum(1 for _ in rows)
    if customers:
        yield customers, jobs


class DueJob(NamedTuple):
    """A job just marked reminded, with what its notification and email say of it."""

    reminder_id: int
    customer_id: int
    due_date: dt.date
    service: str
    slug: str
    provider: str
    phone: str
    customer_email: str
    customer_name: str

    @property
    def content(self) -> tuple:
        """What the email says of this job apart from its due date and provider, as a
        key for rendering it once: those go in as slots (job_slot_values), so the
        renderings multiply neither with the providers nor with the dates."""
        return (self.service, self.slug)


# What a reminder needs of each job, after its id, customer and due date.
DETAIL_FIELDS = [
    "service_type__name", "service_type__slug", "provider__business_name", "provider__phone",
    "customer__user__email", "customer__user__name",
]


def mark_reminded(*, as_of: dt.date, customer_ids: list[int], now: dt.datetime) -> list[DueJob]:
    """Writes a ServiceReminder for each of these customers' jobs still to remind, in one
    INSERT ... SELECT that checks eligibility again (reminder_targets, compiled to SQL),
    and returns those jobs in customer order, each customer's soonest due first."""
    if not customer_ids:
        return []
    eligible = reminder_targets(as_of).order_by().values_list(
        "pk", "customer_id", "next_due_date", *DETAIL_FIELDS
    )
    # The ORM's SQL with its parameters inlined, so the statement names its own.
    select = connection.ops.compose_sql(*eligible.query.sql_with_params()).replace("%", "%%")
    target = Step(
        "target",
        # The batch's customers go in as one array rather than the 500 parameters of
        # filter(customer_id__in=...); PostgreSQL pushes the condition into the
        # subquery, so the jobs are still found through the customer index.
        f"""SELECT * FROM ({select}) AS eligible (
                job_id, customer_id, due_date, service, slug, provider, phone, customer_email, customer_name
            )
            WHERE customer_id = ANY(%(customer_ids)s)""",
    )
    reminded = insert_step(
        "reminded",
        ServiceReminder,
        {"job_id": "job_id", "customer_id": "customer_id", "due_date": "due_date", "sent_at": "%(now)s"},
        source="target",
        returning=("id", "job_id"),
    )
    sql, params = batch_sql(
        [target, reminded],
        """SELECT reminded.id, customer_id, due_date, service, slug, provider, phone,
                  customer_email, customer_name
           FROM target JOIN reminded USING (job_id)
           ORDER BY customer_id, due_date, service, job_id""",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "customer_ids": customer_ids, "now": now})
        return [DueJob(*row) for row in cursor.fetchall()]


# The per-customer columns a batch's notifications and emails are written from.
BATCH_COLUMNS = ("customer_id", "title", "message", "key", "email", "subject", "text_body", "html_body")


def reminder_steps(*, now: dt.datetime) -> list[Step]:
    """What a batch writes before its emails: each customer's notification."""
    return [
        insert_step(
            "notifications",
            Notification,
            {
                "id": "gen_random_uuid()",
                "customer_id": "customer_id",
                "kind": Same(SERVICE_DUE_NOTICE),
                "title": "title",
                "message": "message",
                "action_url": Same(reverse("portal:services")),
                "created_at": Same(now),
            },
            source="given",
        )
    ]


def remind_batch(
    *, as_of: dt.date, customer_ids: list[int], render: Callable[[tuple], EmailStencil]
) -> tuple[int, int]:
    """Marks these customers' due jobs reminded and queues one notification and one
    email per customer, in one transaction of two statements. Eligibility is checked
    again inside it (selecting by customer lets PostgreSQL use the customer index).
    `render` gives the email for a tuple of DueJob.content, for any customer.
    Returns (jobs reminded, emails queued)."""
    now = timezone.now()
    with transaction.atomic():
        jobs = mark_reminded(as_of=as_of, customer_ids=customer_ids, now=now)
        if not jobs:
            return 0, 0
        columns = {name: [] for name in BATCH_COLUMNS}
        for customer_id, group in groupby(jobs, key=attrgetter("customer_id")):
            due = list(group)
            first = due[0]
            title, message = reminder_notification(due, as_of)
            stencil = render(tuple(job.content for job in due))
            subject, text_body, html_body = stencil.fill(
                short_name=short_name(first.customer_name, first.customer_email),
                **job_slot_values(due, as_of),
            )
            # The customer's first reminder row of this run names the email for good.
            row = (
                customer_id, title, message, f"{TEMPLATE}/{first.reminder_id}", first.customer_email,
                subject, text_body, html_body,
            )
            for name, value in zip(BATCH_COLUMNS, row, strict=True):
                columns[name].append(value)
        (emails,) = queue_batch(
            given=columns,
            types={name: column_type(Customer._meta.pk) if name == "customer_id" else "text" for name in columns},
            steps=reminder_steps(now=now),
            emails=queued_emails(
                source="given",
                row="given",
                key="given.key",
                template=TEMPLATE,
                kind=Kind.REMINDER,
                now=now,
                as_of=as_of,
            ),
        )
    return len(jobs), emails


def service_context(content: tuple, as_of: dt.date) -> dict:
    name, due_date, provider, phone, slug = content
    days = (due_date - as_of).days
    return {
        "name": name,
        "due_date": due_date,
        # Formatted here, not with the |date filter: it is a third of the rendering time.
        "due_on": f"{due_date:%A, %B} {due_date.day}",
        "when": when_due(days),
        "urgency": urgency_for(days),
        "provider_name": provider,
        "provider_phone": phone,
        "provider_tel": tel_href(phone),
        "book_url": booking_url(service=slug, absolute=True),
    }


# What the email says of each listed service that is a slot of the rendering, one per
# position (due_on_a, provider_name_a, ...): what service_context() gives for them.
# `when` is printed in the subject too: its values ("in 2 days") are single-spaced, so
# the subject's whitespace clean-up leaves them as build_email does.
JOB_SLOT_FIELDS = ("due_on", "when", "provider_name", "provider_phone", "provider_tel")


def job_slots(position: int) -> dict[str, str]:
    """The slot names of the email's service at `position`: a slot name is letters and
    underscores only, so the position is spelt in letters (a, b, ...)."""
    letters = ""
    while True:
        position, digit = divmod(position, 26)
        letters = chr(ord("a") + digit) + letters
        if not position:
            break
    return {field: f"{field}_{letters}" for field in JOB_SLOT_FIELDS}


def job_slot_values(due: list["DueJob"], as_of: dt.date) -> dict[str, str]:
    """The values of the slots of an email listing these jobs, in order: what
    service_context() says of each."""
    values = {}
    for position, job in enumerate(due):
        context = service_context((job.service, job.due_date, job.provider, job.phone, job.slug), as_of)
        for field, slot in job_slots(position).items():
            values[slot] = context[field]
    return values


def email_renderer(as_of: dt.date) -> Callable[[tuple], EmailStencil]:
    """Renders the reminder email for a tuple of DueJob.content through the templates,
    once per distinct tuple within a run, for any customer, due dates and providers
    (an EmailStencil whose slots are the short name and each service's JOB_SLOT_FIELDS).
    The cache is bounded, so memory stays flat however many customers are due."""
    services_url = absolute_url(reverse("portal:services"))

    @lru_cache(maxsize=RENDER_CACHE_SIZE)
    def render(contents: tuple) -> EmailStencil:
        services, slots = [], []
        for position, (name, slug) in enumerate(contents):
            service = service_context((name, as_of, "", "", slug), as_of)
            for field, slot in job_slots(position).items():
                service[field] = EmailStencil.slot(slot)
                slots.append(slot)
            services.append(service)
        return EmailStencil.render(
            template=TEMPLATE,
            kind=Kind.REMINDER,
            context={"services": services, "services_url": services_url},
            slots=tuple(slots),
        )

    return render


def email_context(contents: tuple, as_of: dt.date, *, services_url: str) -> dict:
    """The email's context for a customer's due services (a tuple of DueJob.content):
    the job's and the staff preview's (reminders.emails)."""
    return {"services": [service_context(content, as_of) for content in contents], "services_url": services_url}


def reminder_notification(due: list[DueJob], as_of: dt.date) -> tuple[str, str]:
    """The notification's title and message for a customer's due jobs."""
    if len(due) == 1:
        job = due[0]
        title = f"{job.service} is due {when_due((job.due_date - as_of).days)}"
        message = f"Book {job.service} with {job.provider} to keep on schedule."
    else:
        title = f"{len(due)} services are due"
        message = "; ".join(f"{job.service} {when_due((job.due_date - as_of).days)}" for job in due) + "."
    return title, message


def check_service_due(ctx: JobContext, *, batch_size: int | None = None) -> None:
    """The selection-and-write phase of check_service_due (delivery is the caller's)."""
    batch_size = batch_size or settings.JOB_BATCH_SIZE
    counts, targets = select_targets(ctx.as_of)
    skipped = counts["skipped"]
    start, end = due_window(ctx.as_of)
    ctx.stats.update(
        window={"from": start.isoformat(), "to": end.isoformat()},
        due=counts["due"],
        eligible=len(targets),
        customers=len({customer_id for customer_id, _ in targets}),
        skipped=sum(skipped.values()),
        skippedByReason=skipped,
        emails=0,
    )
    ctx.progress(f"{len(targets)} due job(s) to remind, window {start} to {end}")
    if ctx.dry_run:
        return
    render = email_renderer(ctx.as_of)
    for customer_ids, selected in customer_batches(targets, batch_size):
        try:
            reminded, emails = remind_batch(as_of=ctx.as_of, customer_ids=customer_ids, render=render)
        except Exception as exc:  # one bad batch must not stop the rest; it is retried tomorrow
            ctx.stats["failed"] += selected
            ctx.stats.setdefault("errors", []).append(f"{type(exc).__name__}: {exc}")
            ctx.progress(f"batch of {selected} job(s) failed: {exc}")
            continue
        ctx.stats["sent"] += reminded
        ctx.stats["emails"] += emails
        if (stale := selected - reminded) > 0:  # stopped being eligible since selection (a booking)
            ctx.stats["skipped"] += stale
            skipped["noLongerEligible"] = skipped.get("noLongerEligible", 0) + stale
        ctx.progress(f"reminded {ctx.stats['sent']}/{len(targets)} job(s)")

"""The daily service-due reminder job (check_service_due).

A completed job whose next due date lies from 30 days before to 3 days after the
as-of day is reminded once for that due date, unless the customer booked the same
service again since or turned service reminders off. The ServiceReminder row is the
"reminded" marker: it, the notification and the email are written in one
transaction per batch of customers, and each customer gets one email listing every
service of theirs due. Delivery happens after the writes, outside any transaction.
"""

import datetime as dt
from collections import defaultdict
from itertools import groupby

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from retention.emails import Kind, absolute_url, build_email
from retention.links import booking_url
from retention.models import Customer, Job, Notification, OutboundEmail
from retention.scheduling import JobContext

from .models import ServiceReminder
from .selectors import rebooked_since_completion, tel_href, urgency_for, when_due

REMIND_OVERDUE_DAYS = 30  # older overdue services belong to win-back
REMIND_AHEAD_DAYS = 3
TEMPLATE = "service_due"


def due_window(as_of: dt.date) -> tuple[dt.date, dt.date]:
    return as_of - dt.timedelta(days=REMIND_OVERDUE_DAYS), as_of + dt.timedelta(days=REMIND_AHEAD_DAYS)


def already_reminded() -> Exists:
    return Exists(ServiceReminder.objects.filter(job_id=OuterRef("pk"), due_date=OuterRef("next_due_date")))


def jobs_in_window(as_of: dt.date) -> QuerySet:
    start, end = due_window(as_of)
    return Job.objects.filter(status=Job.Status.COMPLETED, next_due_date__gte=start, next_due_date__lte=end)


def reminder_targets(as_of: dt.date) -> QuerySet:
    """Due jobs to remind: not reminded for this due date, not booked again, reminders on,
    the customer's account active."""
    return jobs_in_window(as_of).filter(
        ~already_reminded(),
        ~rebooked_since_completion(as_of),
        customer__service_reminders_opt_in=True,
        customer__user__is_active=True,
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


# What a reminder needs of each job; loading only these keeps 500-row batches cheap.
BATCH_FIELDS = [
    "customer_id", "next_due_date", "completed_at",
    "customer__user__email", "customer__user__name",
    "service_type__name", "service_type__slug", "provider__business_name", "provider__phone",
]


def remind_batch(*, as_of: dt.date, customer_ids: list[int]) -> tuple[int, int]:
    """Marks these customers' due jobs reminded and queues one notification and one
    email per customer, in one transaction. Eligibility is checked again inside it
    (selecting by customer lets PostgreSQL use the customer index).
    Returns (jobs reminded, emails queued)."""
    now = timezone.now()
    with transaction.atomic():
        jobs = list(
            reminder_targets(as_of)
            .filter(customer_id__in=customer_ids)
            .select_related("customer__user", "service_type", "provider")
            .only(*BATCH_FIELDS)
            .order_by("customer_id", "next_due_date", "service_type__name")
        )
        reminders = ServiceReminder.objects.bulk_create(
            ServiceReminder(job=job, customer_id=job.customer_id, due_date=job.next_due_date, sent_at=now)
            for job in jobs
        )
        by_customer: dict[int, list[tuple[Job, ServiceReminder]]] = defaultdict(list)
        for job, reminder in zip(jobs, reminders, strict=True):
            by_customer[job.customer_id].append((job, reminder))
        notifications, emails = [], []
        # Resolved once per batch: reverse() per email would cost more than the SQL.
        services_path = reverse("portal:services")
        services_url = absolute_url(services_path)
        for pairs in by_customer.values():
            customer = pairs[0][0].customer
            services = [service_context(job, as_of) for job, _ in pairs]
            notifications.append(reminder_notification(customer, services, now, action_url=services_path))
            emails.append(
                build_email(
                    template=TEMPLATE,
                    customer=customer,
                    kind=Kind.REMINDER,
                    # The customer's first reminder row of this run names the email for good.
                    idempotency_key=f"{TEMPLATE}/{pairs[0][1].pk}",
                    context={"services": services, "services_url": services_url},
                )
            )
        Notification.objects.bulk_create(notifications)
        OutboundEmail.objects.bulk_create(emails, ignore_conflicts=True)
    return len(jobs), len(emails)


def service_context(job: Job, as_of: dt.date) -> dict:
    days = (job.next_due_date - as_of).days
    return {
        "name": job.service_type.name,
        "due_date": job.next_due_date,
        # Formatted here, not with the |date filter: it is a third of the rendering time.
        "due_on": f"{job.next_due_date:%A, %B} {job.next_due_date.day}",
        "when": when_due(days),
        "urgency": urgency_for(days),
        "provider_name": job.provider.business_name,
        "provider_phone": job.provider.phone,
        "provider_tel": tel_href(job.provider.phone),
        "book_url": booking_url(service=job.service_type.slug, absolute=True),
    }


def reminder_notification(
    customer: Customer, services: list[dict], now: dt.datetime, *, action_url: str
) -> Notification:
    if len(services) == 1:
        service = services[0]
        title = f"{service['name']} is due {service['when']}"
        message = f"Book {service['name'].lower()} with {service['provider_name']} to keep on schedule."
    else:
        title = f"{len(services)} services are due"
        message = "; ".join(f"{s['name']} {s['when']}" for s in services) + "."
    return Notification(
        customer=customer,
        kind=Notification.Kind.SERVICE_DUE,
        title=title,
        message=message,
        action_url=action_url,
        created_at=now,
    )


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
    for customer_ids, selected in customer_batches(targets, batch_size):
        try:
            reminded, emails = remind_batch(as_of=ctx.as_of, customer_ids=customer_ids)
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

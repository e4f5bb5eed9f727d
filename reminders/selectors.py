"""Reads about when a customer's services are due and how long they have been quiet.

Shared by the daily jobs, the dashboard alert, the services page, the JSON API and
the staff churn view, so all of them agree on what "due", "rebooked" and "urgent" mean.
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When

from plans.selectors import on_a_plan, on_plan_for_service
from retention.clock import start_of_business_day
from retention.compiled import CompiledQuery
from retention.links import booking_url
from retention.models import Customer, Job, Provider, ServiceType, scheduled_ahead

from .models import ServiceReminder, WinbackSend

# The dashboard alert and GET /api/customer/jobs/due look this far ahead and back.
ALERT_AHEAD_DAYS = 7
ALERT_OVERDUE_DAYS = 30  # older overdue services belong to win-back


def rebooks(*, as_of: dt.date, completed_at: OuterRef) -> Q:
    """Whether another job of the same customer and service (not cancelled) books or
    does that service again after a completion at `completed_at`: it is scheduled for
    `as_of` or later, or it was completed later, or it was booked after the completion.
    A visit booked before the completion but still ahead counts too (PRODUCT.md: a
    customer with a job scheduled ahead is never a reminder target for that service)."""
    return Q(status__in=[Job.Status.SCHEDULED, Job.Status.COMPLETED]) & (
        scheduled_ahead(as_of)
        | Q(status=Job.Status.COMPLETED, completed_at__gt=completed_at)
        | Q(created_at__gt=completed_at)
    )


def rebooked_since_completion(as_of: dt.date) -> Q:
    """True for a completed job whose service is booked or done again (`rebooks`), or
    whose customer is on an active maintenance plan for that service (the plan books its
    visits), so it is no longer due: the one rule the daily job, the alert, the
    services page and the JSON API share."""
    return Q(
        Exists(
            Job.objects.filter(
                rebooks(as_of=as_of, completed_at=OuterRef("completed_at")),
                customer_id=OuterRef("customer_id"),
                service_type_id=OuterRef("service_type_id"),
            ).exclude(pk=OuterRef("pk"))
        )
    ) | Q(on_plan_for_service(customer="customer_id", service_type="service_type_id"))


# --- Urgency ---------------------------------------------------------------------------

URGENCY_LABELS = {
    "overdue": "Overdue",
    "today": "Due today",
    "soon": "Due soon",
    "upcoming": "Coming up",
    "later": "Not due yet",
}


def urgency_for(days_until_due: int) -> str:
    """overdue (< 0), today (0), soon (1-3 days), upcoming (4-7 days), later (8+)."""
    if days_until_due < 0:
        return "overdue"
    if days_until_due == 0:
        return "today"
    if days_until_due <= 3:
        return "soon"
    if days_until_due <= 7:
        return "upcoming"
    return "later"


def when_due(days_until_due: int) -> str:
    """The due date in words: "3 days overdue", "today", "in 1 day"."""
    if days_until_due == 0:
        return "today"
    n = abs(days_until_due)
    days = f"{n} day{'s' if n != 1 else ''}"
    return f"{days} overdue" if days_until_due < 0 else f"in {days}"


def tel_href(phone: str) -> str:
    """A tel: link for a phone number as people type it."""
    return "tel:" + re.sub(r"[^0-9+]", "", phone)


# --- What a customer has due -------------------------------------------------------------


class Urgent:
    """Urgency, its badge text and "when" in words, from `days_until_due`."""

    days_until_due: int

    @property
    def urgency(self) -> str:
        return urgency_for(self.days_until_due)

    @property
    def urgency_label(self) -> str:
        return URGENCY_LABELS[self.urgency]

    @property
    def when(self) -> str:
        return when_due(self.days_until_due)


@dataclass(frozen=True)
class DueService(Urgent):
    job: Job
    due_date: dt.date
    days_until_due: int

    @property
    def service_type(self) -> ServiceType:
        return self.job.service_type

    @property
    def provider_tel(self) -> str:
        return tel_href(self.job.provider.phone)


def due_within(*, today: dt.date, ahead_days: int = ALERT_AHEAD_DAYS, overdue_days: int = ALERT_OVERDUE_DAYS) -> Q:
    """A completed job whose service falls due from `overdue_days` ago to `ahead_days`
    ahead and has not been booked again: the alert's and GET /api/customer/jobs/due's rule."""
    return Q(
        ~rebooked_since_completion(today),
        status=Job.Status.COMPLETED,
        next_due_date__gte=today - dt.timedelta(days=overdue_days),
        next_due_date__lte=today + dt.timedelta(days=ahead_days),
    )


# Most urgent (earliest due) first; of two completions of one service, the latest.
DUE_ORDER = ("next_due_date", "service_type__name", "-completed_at")


def most_urgent_first(jobs, *, today: dt.date) -> list["DueService"]:
    """DueService for each service of these jobs (in DUE_ORDER, with service_type and
    provider), the first job listed for each service type."""
    seen, due = set(), []
    for job in jobs:
        # Two completions of one service at the very same moment: the first listed wins.
        if job.service_type_id in seen:
            continue
        seen.add(job.service_type_id)
        due.append(DueService(job=job, due_date=job.next_due_date, days_until_due=(job.next_due_date - today).days))
    return due


# What a due service shows of its job: the API's id, the due date, the service (the
# recommendations match it by id) and the provider's name and phone. Nothing else is read.
DUE_JOB_FIELDS = (
    "pk", "next_due_date", "service_type_id", "service_type__name", "provider__business_name", "provider__phone",
)


def due_jobs_query(*, id: int, day: dt.date) -> QuerySet:
    """The completed jobs of customer `id` due for the alert's window on `day`, in DUE_ORDER."""
    return (
        Job.objects.filter(due_within(today=day), customer_id=id)
        .order_by(*DUE_ORDER)
        .values_list(*DUE_JOB_FIELDS)
    )


# Compiled to SQL once per process: building and compiling the rebooking rule's
# correlated EXISTS cost more Python than the query takes to run.
DUE_JOBS = CompiledQuery(due_jobs_query)


def due_services(*, customer: Customer, today: dt.date) -> list[DueService]:
    """The customer's services due from ALERT_OVERDUE_DAYS ago to ALERT_AHEAD_DAYS ahead
    that they have not booked again, most urgent (earliest due) first. One query."""
    jobs = [
        Job(
            pk=pk, next_due_date=next_due_date,
            service_type=ServiceType(pk=service_type_id, name=service_name),
            provider=Provider(business_name=provider_name, phone=provider_phone),
        )
        for (pk, next_due_date, service_type_id, service_name, provider_name, provider_phone)
        in DUE_JOBS.rows(id=customer.pk, day=today)
    ]
    return most_urgent_first(jobs, today=today)


@dataclass(frozen=True)
class ServiceSummary(Urgent):
    """One service type the customer has had done, for the services page."""

    service_type: ServiceType
    last_completed_at: dt.datetime
    next_due_date: dt.date
    days_until_due: int
    booked_for: dt.date | None

    @property
    def book_url(self) -> str:
        return booking_url(service=self.service_type.slug)


def service_summaries_query(*, id: int, day: dt.date) -> QuerySet:
    """Each service type customer `id` has had completed, with its last completion, next
    due date and the visit booked for it on `day` (see service_summaries)."""
    completed = Job.objects.filter(
        customer_id=id, status=Job.Status.COMPLETED, service_type=OuterRef("pk")
    ).order_by("-completed_at")
    booked = Job.objects.filter(
        rebooks(as_of=day, completed_at=OuterRef("last_completed_at")),
        customer_id=id,
        status=Job.Status.SCHEDULED,
        service_type=OuterRef("pk"),
    ).order_by(Case(When(scheduled_ahead(day), then=Value(0)), default=Value(1)), "scheduled_for")
    return (
        ServiceType.objects.filter(Exists(completed))
        .annotate(
            last_completed_at=Subquery(completed.values("completed_at")[:1]),
            next_due=Subquery(completed.values("next_due_date")[:1]),
        )
        .annotate(booked_for=Subquery(booked.values("scheduled_for")[:1]))
        .order_by("next_due", "name")
        .values_list("pk", "name", "slug", "last_completed_at", "next_due", "booked_for")
    )


# Compiled once per process, as DUE_JOBS: three correlated subqueries per service type.
SERVICE_SUMMARIES = CompiledQuery(service_summaries_query)


def service_summaries(*, customer: Customer, today: dt.date) -> list[ServiceSummary]:
    """Each service type the customer has had completed: when last, when next due, and
    the visit booked for it, if any; soonest due first. One query.

    A visit is one that rebooks the latest completion by the due list's rule (`rebooks`),
    so a service shows "Booked" exactly when the alert and the API leave it out; the
    next one ahead is shown first."""
    return [
        ServiceSummary(
            service_type=ServiceType(pk=pk, name=name, slug=slug),
            last_completed_at=last_completed_at,
            next_due_date=next_due,
            days_until_due=(next_due - today).days,
            booked_for=booked_for,
        )
        for pk, name, slug, last_completed_at, next_due, booked_for in SERVICE_SUMMARIES.rows(id=customer.pk, day=today)
    ]


# --- Churn: how long since a customer's last booking -----------------------------------------

class ChurnStage(NamedTuple):
    key: str
    label: str
    low: int  # the fewest days since the last booking in this stage
    high: int | None  # the most, or None for the last stage


def churn_stages() -> list[ChurnStage]:
    """The churn stages by days since the last booking, in order: the one definition
    the staff churn view (its filter and stage column), win-back (the "inactive" stage
    is who it mails) and the metrics page's weekly churn chart all read. "Inactive"
    begins at WINBACK_INACTIVE_DAYS, so the view and the job cannot disagree. A
    customer with a job scheduled ahead is in the first stage, active, however long
    ago they booked it (never inactive)."""
    inactive = settings.WINBACK_INACTIVE_DAYS
    return [
        ChurnStage("active", "Active (under 30 days)", 0, 29),
        ChurnStage("cooling", "Cooling (30-59 days)", 30, 59),
        ChurnStage("at_risk", f"At risk (60-{inactive - 1} days)", 60, inactive - 1),
        ChurnStage("inactive", f"Inactive ({inactive}+ days)", inactive, None),
    ]


def churn_stage_starts() -> dict[str, int]:
    """The days since the last booking at which each stage begins, by key."""
    return {stage.key: stage.low for stage in churn_stages()}


def churn_stage(days_since_last_booking: int | None, *, job_ahead: bool = False) -> str:
    """The stage's label for a customer (Python; in_churn_stage() is the same in SQL)."""
    stages = churn_stages()
    if days_since_last_booking is None:
        return "never booked"
    if job_ahead:
        return stages[0].label
    for stage in stages:
        if days_since_last_booking >= stage.low and (stage.high is None or days_since_last_booking <= stage.high):
            return stage.label
    return stages[0].label  # a booking dated in the future counts as active


def booked_days_ago(days: int, as_of: dt.date) -> dt.datetime:
    """The moment from which a booking is fewer than `days` days old on `as_of`: booked
    on business day D is n days old from D + n on."""
    return start_of_business_day(as_of - dt.timedelta(days=days - 1))


def in_churn_stage(key: str, as_of: dt.date) -> Q:
    """Customers annotated with `last_booking_at` (last_booking_at()) whose last booking
    puts them in stage `key` on `as_of` by days alone (churn_stage() in SQL); a job
    scheduled ahead is the caller's (the churn view counts it active, win-back skips it)."""
    stage = next(stage for stage in churn_stages() if stage.key == key)
    in_stage = Q(last_booking_at__lt=booked_days_ago(stage.low, as_of))
    if stage.high is not None:
        in_stage &= Q(last_booking_at__gte=booked_days_ago(stage.high + 1, as_of))
    return in_stage


def job_scheduled_ahead(as_of: dt.date) -> Exists:
    """The customer has a job scheduled ahead (retention.models.scheduled_ahead)."""
    return Exists(Job.objects.filter(scheduled_ahead(as_of), customer_id=OuterRef("pk")))


def active_ahead(as_of: dt.date) -> Q:
    """The customer is active ahead of `as_of`, so never won back: a job scheduled ahead
    (job_scheduled_ahead) or an active maintenance plan, which books their visits
    (plans.selectors.on_a_plan; PRODUCT.md: plan members are not win-back targets while
    the plan is active). Service-due asks the same per service: rebooked_since_completion
    (a job of the service scheduled ahead, or a plan for it)."""
    return Q(job_scheduled_ahead(as_of)) | Q(on_a_plan(customer="pk"))


def last_booking_at() -> Subquery:
    """A customer's last booking: their most recent job by booking time (any status)."""
    return Subquery(Job.objects.filter(customer_id=OuterRef("pk")).order_by("-created_at").values("created_at")[:1])


def with_churn_dates(customers: QuerySet) -> QuerySet:
    """Annotates last booking, last service reminder and last win-back: three subqueries
    in the one SELECT, so a changelist page costs no query per row."""
    return customers.annotate(
        last_booking_at=last_booking_at(),
        last_reminder_at=Subquery(
            ServiceReminder.objects.filter(customer_id=OuterRef("pk")).order_by("-sent_at").values("sent_at")[:1]
        ),
        last_winback_at=Subquery(
            WinbackSend.objects.filter(customer_id=OuterRef("pk")).order_by("-sent_at").values("sent_at")[:1]
        ),
    )

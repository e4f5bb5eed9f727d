"""Reads about plans and subscriptions: who is on a plan for which service (the rule
reminders and win-back follow), what the plans page, the API and the dashboard
widget show, each in a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery

from retention.compiled import CompiledQuery, columns
from retention.models import Customer, Job, ServiceType

from .models import Plan, PlanVisit, Subscription
from .services import next_visit_date


def plan_visit_name() -> Subquery:
    """The name of the plan a job is a visit of, or None: what a job list annotates to
    show a job as a plan visit. A subquery rather than three outer joins, which cost
    PostgreSQL more to plan than the page's whole query takes to run."""
    return Subquery(PlanVisit.objects.filter(job=OuterRef("pk")).values("subscription__plan__name")[:1])


def on_plan_for_service(*, customer: str = "customer_id", service_type: str = "service_type_id") -> Exists:
    """The row's customer has an active subscription to a plan for the row's service:
    a plan member is never reminded that service is due (its visits are booked by the
    plan). `customer` and `service_type` name the outer row's columns."""
    return Exists(
        Subscription.objects.filter(
            customer_id=OuterRef(customer),
            plan__service_type_id=OuterRef(service_type),
            status=Subscription.Status.ACTIVE,
        )
    )


def on_a_plan(*, customer: str = "pk") -> Exists:
    """The row's customer has an active subscription: never "inactive", so never won
    back, while it lasts."""
    return Exists(Subscription.objects.filter(customer_id=OuterRef(customer), status=Subscription.Status.ACTIVE))


def upcoming_visits(today: dt.date):
    """A subscription's visits still to come: booked, the job scheduled, today or later."""
    return PlanVisit.objects.filter(
        status=PlanVisit.Status.BOOKED, job__status=Job.Status.SCHEDULED, job__scheduled_for__gte=today
    )


@dataclass(frozen=True)
class SubscriptionView:
    subscription: Subscription
    next_visit: dt.date | None  # the next booked visit's day, else the day the plan books next
    next_visit_booked: bool

    @property
    def plan(self) -> Plan:
        return self.subscription.plan

    @property
    def status(self) -> str:
        return self.subscription.status


SUBSCRIPTION_COLUMNS, PLAN_COLUMNS, SERVICE_TYPE_COLUMNS = (columns(m) for m in (Subscription, Plan, ServiceType))


def _plan_with_service_type(row) -> Plan:
    """A Plan and its ServiceType from a row of PLAN_COLUMNS then SERVICE_TYPE_COLUMNS."""
    plan = Plan.from_db(DEFAULT_DB_ALIAS, PLAN_COLUMNS, row[: len(PLAN_COLUMNS)])
    plan.service_type = ServiceType.from_db(DEFAULT_DB_ALIAS, SERVICE_TYPE_COLUMNS, row[len(PLAN_COLUMNS) :])
    return plan


def customer_subscriptions_query(*, id: int, day: dt.date, open_only: bool) -> QuerySet:
    """Customer `id`'s subscriptions with their plans and service types, the next visit
    booked on or after `day` and the last visit not called off."""
    upcoming = upcoming_visits(day).filter(subscription_id=OuterRef("pk"))
    subscriptions = (
        Subscription.objects.filter(customer_id=id)
        .annotate(
            next_booked=Subquery(upcoming.order_by("job__scheduled_for").values("job__scheduled_for")[:1]),
            last_visit=Max("visits__scheduled_for", filter=~Q(visits__status=PlanVisit.Status.CALLED_OFF)),
        )
        .order_by("status", "-created_at")  # active, cancelled, paused: sorted below
    )
    if open_only:
        subscriptions = subscriptions.exclude(status=Subscription.Status.CANCELLED)
    return subscriptions.values_list(
        *SUBSCRIPTION_COLUMNS,
        *(f"plan__{name}" for name in PLAN_COLUMNS),
        *(f"plan__service_type__{name}" for name in SERVICE_TYPE_COLUMNS),
        "next_booked",
        "last_visit",
    )


# Compiled once per process (retention.compiled), as the pages' other fixed reads.
CUSTOMER_SUBSCRIPTIONS = {
    open_only: CompiledQuery(
        lambda *, id, day, open_only=open_only: customer_subscriptions_query(id=id, day=day, open_only=open_only)
    )
    for open_only in (False, True)
}


def customer_subscriptions(*, customer: Customer, today: dt.date, open_only: bool = False) -> list[SubscriptionView]:
    """The customer's subscriptions, open ones first, each with its next visit; one query."""
    order = {Subscription.Status.ACTIVE: 0, Subscription.Status.PAUSED: 1, Subscription.Status.CANCELLED: 2}
    subscriptions = []
    for row in CUSTOMER_SUBSCRIPTIONS[open_only].rows(id=customer.pk, day=today):
        subscription = Subscription.from_db(DEFAULT_DB_ALIAS, SUBSCRIPTION_COLUMNS, row[: len(SUBSCRIPTION_COLUMNS)])
        subscription.plan = _plan_with_service_type(row[len(SUBSCRIPTION_COLUMNS) : -2])
        subscription.next_booked, subscription.last_visit = row[-2:]
        subscriptions.append(subscription)
    views = []
    for subscription in sorted(subscriptions, key=lambda s: order[s.status]):
        next_visit, booked = subscription.next_booked, subscription.next_booked is not None
        if next_visit is None and subscription.status == Subscription.Status.ACTIVE:
            next_visit = next_visit_date(
                last_visit=subscription.last_visit,
                start_date=subscription.start_date,
                interval_days=subscription.plan.interval_days,
                as_of=today,
            )
        views.append(SubscriptionView(subscription=subscription, next_visit=next_visit, next_visit_booked=booked))
    return views


OFFERED_PLANS = CompiledQuery(
    lambda *, id, day: Plan.objects.filter(active=True)
    .order_by("name")
    .values_list(*PLAN_COLUMNS, *(f"service_type__{name}" for name in SERVICE_TYPE_COLUMNS))
)


def offered_plans() -> list[Plan]:
    """The active plans, for subscribing; one query."""
    return [_plan_with_service_type(row) for row in OFFERED_PLANS.rows()]


WIDGET_FIELDS = (
    "pk", "name", "interval_days", "discount_percent", "service_type_id", "service_type__name",
    "subscription_id", "subscription_status", "subscription_start", "next_booked", "last_visit",
)


def widget_query(*, id: int, day: dt.date):
    """Plans on offer or subscribed to by customer `id`, each with the customer's open
    subscription (at most one per plan, a database constraint) and its visits read by
    subqueries, as of `day` (WIDGET_FIELDS)."""
    open_subscription = Subscription.objects.filter(customer_id=id, plan=OuterRef("pk")).exclude(
        status=Subscription.Status.CANCELLED
    )
    visits = PlanVisit.objects.filter(subscription__customer_id=id, subscription__plan=OuterRef("pk")).exclude(
        subscription__status=Subscription.Status.CANCELLED
    )
    return (
        Plan.objects.filter(Q(active=True) | Q(Exists(open_subscription)))
        .annotate(
            subscription_id=Subquery(open_subscription.values("pk")[:1]),
            subscription_status=Subquery(open_subscription.values("status")[:1]),
            subscription_start=Subquery(open_subscription.values("start_date")[:1]),
            next_booked=Subquery(
                visits.filter(
                    status=PlanVisit.Status.BOOKED, job__status=Job.Status.SCHEDULED, job__scheduled_for__gte=day
                )
                .order_by("job__scheduled_for")
                .values("job__scheduled_for")[:1]
            ),
            last_visit=Subquery(
                visits.exclude(status=PlanVisit.Status.CALLED_OFF).order_by("-scheduled_for").values("scheduled_for")[:1]
            ),
        )
        .order_by("name")
        .values_list(*WIDGET_FIELDS)
    )


# Compiled once per process (retention.compiled): five subqueries on every dashboard.
WIDGET = CompiledQuery(widget_query)


def subscription_widget(*, customer: Customer, today: dt.date) -> dict:
    """The dashboard's SubscriptionWidget: the customer's open subscriptions with their
    next visits, and the plans they can still subscribe to. One query (widget_query)."""
    subscriptions, offered = [], []
    for row in WIDGET.rows(id=customer.pk, day=today):
        (pk, name, interval_days, discount_percent, service_type_id, service_name,
         subscription_id, subscription_status, subscription_start, next_booked, last_visit) = row
        plan = Plan(
            pk=pk, name=name, interval_days=interval_days, discount_percent=discount_percent,
            service_type=ServiceType(pk=service_type_id, name=service_name),
        )
        if subscription_id is None:
            offered.append(plan)
            continue
        subscription = Subscription(
            pk=subscription_id, customer=customer, plan=plan, status=subscription_status,
            start_date=subscription_start,
        )
        next_visit = next_booked
        if next_visit is None and subscription.status == Subscription.Status.ACTIVE:
            next_visit = next_visit_date(
                last_visit=last_visit, start_date=subscription_start,
                interval_days=interval_days, as_of=today,
            )
        subscriptions.append(
            SubscriptionView(subscription=subscription, next_visit=next_visit, next_visit_booked=next_booked is not None)
        )
    subscriptions.sort(key=lambda view: view.status != Subscription.Status.ACTIVE)
    return {"subscriptions": subscriptions, "plans": offered, "today": today}

"""Reads about plans and subscriptions: who is on a plan for which service (the rule
reminders and win-back follow), what the plans page, the API and the dashboard
widget show, each in a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef, Q, Subquery

from retention.models import Customer, Job

from .models import Plan, PlanVisit, Subscription
from .services import next_visit_date

# What pages select with a job to show it as a plan visit (`job.plan_visit`).
PLAN_VISIT_RELATED = "plan_visit__subscription__plan"


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


def customer_subscriptions(*, customer: Customer, today: dt.date, open_only: bool = False) -> list[SubscriptionView]:
    """The customer's subscriptions, open ones first, each with its next visit; one query."""
    upcoming = upcoming_visits(today).filter(subscription_id=OuterRef("pk"))
    subscriptions = (
        Subscription.objects.filter(customer=customer)
        .select_related("plan__service_type")
        .annotate(
            next_booked=Subquery(upcoming.order_by("job__scheduled_for").values("job__scheduled_for")[:1]),
            last_visit=Max("visits__scheduled_for", filter=~Q(visits__status=PlanVisit.Status.CALLED_OFF)),
        )
        .order_by("status", "-created_at")  # active, cancelled, paused: sorted below
    )
    if open_only:
        subscriptions = subscriptions.exclude(status=Subscription.Status.CANCELLED)
    order = {Subscription.Status.ACTIVE: 0, Subscription.Status.PAUSED: 1, Subscription.Status.CANCELLED: 2}
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


def offered_plans() -> list[Plan]:
    """The active plans, for subscribing; one query."""
    return list(Plan.objects.filter(active=True).select_related("service_type").order_by("name"))


def subscription_widget(*, customer: Customer, today: dt.date) -> dict:
    """The dashboard's SubscriptionWidget: the customer's open subscriptions with their
    next visits, and the plans they can still subscribe to; two queries."""
    subscriptions = customer_subscriptions(customer=customer, today=today, open_only=True)
    taken = {view.plan.pk for view in subscriptions}
    return {
        "subscriptions": subscriptions,
        "plans": [plan for plan in offered_plans() if plan.pk not in taken],
        "today": today,
    }

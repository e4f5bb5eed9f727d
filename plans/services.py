"""Rules of maintenance plans that the rest of the product calls: a visit's price, the
dates a subscription's visits fall on, which provider is free on a day, and the plan
bonus a completed visit earns (complete_job calls award_plan_bonus).

Below actions/ in the dependency order (this module imports no action), so
actions.jobs can call it; subscribing and the daily job, which book jobs, are
plans.actions and plans.visits.
"""

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count

from loyalty.models import PointsEntry
from loyalty.services import award_job_bonus, points_for_amount
from retention.models import Job, Provider, ServiceType

from .models import PlanVisit

CENT = Decimal("0.01")


def visit_price(*, list_price: Decimal, discount_percent: int) -> Decimal:
    """What a plan visit costs: the list price less the plan's discount, to the cent."""
    return (list_price * (100 - discount_percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def first_visit_on_or_after(*, anchor: dt.date, interval_days: int, day: dt.date) -> dt.date:
    """The first date of the series anchor, anchor + interval, ... that is `day` or later."""
    if anchor >= day:
        return anchor
    steps = math.ceil((day - anchor).days / interval_days)
    return anchor + dt.timedelta(days=steps * interval_days)


def next_visit_date(
    *, last_visit: dt.date | None, start_date: dt.date, interval_days: int, as_of: dt.date
) -> dt.date:
    """The date of a subscription's next visit: the previous visit's date + the interval
    (the start date when none is booked), moved on by whole intervals past days already
    gone (after a pause, or days the job did not run)."""
    anchor = last_visit + dt.timedelta(days=interval_days) if last_visit else start_date
    return first_visit_on_or_after(anchor=anchor, interval_days=interval_days, day=as_of)


def visit_dates_to_book(
    *, last_visit: dt.date | None, start_date: dt.date, interval_days: int, as_of: dt.date
) -> list[dt.date]:
    """Every visit date from the next one up to PLAN_BOOK_AHEAD_DAYS after `as_of`
    (a 7-day plan after a missed week has two)."""
    horizon = as_of + dt.timedelta(days=settings.PLAN_BOOK_AHEAD_DAYS)
    day = next_visit_date(last_visit=last_visit, start_date=start_date, interval_days=interval_days, as_of=as_of)
    dates = []
    while day <= horizon:
        dates.append(day)
        day += dt.timedelta(days=interval_days)
    return dates


# --- Providers free on a day -----------------------------------------------------------


class ProviderDays:
    """Which providers offer which services and how many jobs each has on each day,
    read in two queries for a range of days; `take` assigns a visit to the least busy
    provider with room (fewer than PROVIDER_JOBS_PER_DAY scheduled jobs) on its day or
    the next day with one, and counts it, so a whole run assigns from one reading."""

    def __init__(self, *, service_type_ids: Iterable[int], first_day: dt.date, last_day: dt.date):
        self.capacity = settings.PROVIDER_JOBS_PER_DAY
        self.search_days = settings.PLAN_PROVIDER_SEARCH_DAYS
        self.offering: dict[int, list[tuple[str, int]]] = defaultdict(list)  # service -> [(name, provider)]
        self.names: dict[int, str] = {}
        rows = Provider.objects.filter(service_types__in=list(service_type_ids), user__is_active=True).values_list(
            "service_types", "business_name", "pk"
        )
        for service_type_id, name, provider_id in rows:
            self.offering[service_type_id].append((name, provider_id))
            self.names[provider_id] = name
        for providers in self.offering.values():
            providers.sort()
        provider_ids = {pk for providers in self.offering.values() for _name, pk in providers}
        self.load: defaultdict[tuple[int, dt.date], int] = defaultdict(int)
        if provider_ids:
            loads = (
                Job.objects.filter(
                    provider_id__in=provider_ids,
                    status=Job.Status.SCHEDULED,
                    scheduled_for__gte=first_day,
                    scheduled_for__lte=last_day + dt.timedelta(days=self.search_days),
                )
                .values_list("provider_id", "scheduled_for")
                .annotate(jobs=Count("pk"))
                .order_by()
            )
            for provider_id, day, jobs in loads:
                self.load[provider_id, day] = jobs

    def take(self, *, service_type_id: int, day: dt.date) -> tuple[int, dt.date] | None:
        """(provider id, day) for a visit wanted on `day`, or None when no provider of
        the service has room within PLAN_PROVIDER_SEARCH_DAYS after it."""
        providers = self.offering.get(service_type_id)
        if not providers:
            return None
        for offset in range(self.search_days + 1):
            on = day + dt.timedelta(days=offset)
            load, _name, provider_id = min((self.load[pk, on], name, pk) for name, pk in providers)
            if load < self.capacity:
                self.load[provider_id, on] += 1
                return provider_id, on
        return None


def free_provider(*, service_type: ServiceType, day: dt.date) -> tuple[Provider, dt.date] | None:
    """The provider (and the day) a single visit wanted on `day` is booked with."""
    days = ProviderDays(service_type_ids=[service_type.pk], first_day=day, last_day=day)
    taken = days.take(service_type_id=service_type.pk, day=day)
    if taken is None:
        return None
    provider_id, on = taken
    return Provider.objects.get(pk=provider_id), on


# --- Points -------------------------------------------------------------------------------


def plan_bonus_points(*, amount_paid: Decimal, bonus_percent: int) -> int:
    """The plan's bonus: its percent of the visit's base points, rounded down."""
    return points_for_amount(amount_paid) * bonus_percent // 100


def award_plan_bonus(*, job: Job) -> int:
    """The plan bonus of a completed plan visit, as its own ledger line, once per job;
    0 for a job that is not a plan visit. Called by complete_job in its transaction."""
    visit = PlanVisit.objects.filter(job_id=job.pk).select_related("subscription__plan").first()
    if visit is None:
        return 0
    plan = visit.subscription.plan
    bonus = plan_bonus_points(amount_paid=job.amount_paid, bonus_percent=plan.bonus_points_percent)
    return award_job_bonus(
        job=job,
        points=bonus,
        type=PointsEntry.Type.PLAN_BONUS,
        description=f"{plan.name} plan bonus ({plan.bonus_points_percent}%)",
    )

"""The figures of the metrics page's maintenance plans section (metrics.report): plans open at each week's end, plan
visits booked and completed, and plans cancelled (churned) per week. Two aggregate
queries whatever the period or the data: one over subscriptions, one over plan visits,
each with one conditional count per week."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from plans.models import PlanVisit, Subscription
from retention.clock import start_of_business_day
from retention.models import Job

from .periods import Period


@dataclass
class PlanActivity:
    open_by_week: list[int]  # subscriptions not cancelled at the week's end (active or paused)
    cancelled_by_week: list[int]
    booked_by_week: list[int]  # plan visits booked in the week
    completed_by_week: list[int]  # plan visits completed in the week


def week_moments(period: Period) -> list[tuple[dt.datetime, dt.datetime]]:
    """Each week's first moment and the first moment after it."""
    return [
        (start_of_business_day(end - dt.timedelta(days=6)), start_of_business_day(end + dt.timedelta(days=1)))
        for end in period.week_ends
    ]


def plan_activity(period: Period) -> PlanActivity:
    weeks = week_moments(period)
    subscriptions = Subscription.objects.aggregate(
        **{
            f"open{i}": Count("pk", filter=Q(created_at__lt=end) & (Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=end)))
            for i, (_start, end) in enumerate(weeks)
        },
        **{
            f"cancelled{i}": Count("pk", filter=Q(cancelled_at__gte=start, cancelled_at__lt=end))
            for i, (start, end) in enumerate(weeks)
        },
    )
    visits = PlanVisit.objects.filter(
        Q(created_at__gte=period.starts_at, created_at__lt=period.ends_at)
        | Q(job__completed_at__gte=period.starts_at, job__completed_at__lt=period.ends_at)
    ).aggregate(
        **{
            f"booked{i}": Count("pk", filter=Q(created_at__gte=start, created_at__lt=end, job__isnull=False))
            for i, (start, end) in enumerate(weeks)
        },
        **{
            f"completed{i}": Count(
                "pk",
                filter=Q(job__status=Job.Status.COMPLETED, job__completed_at__gte=start, job__completed_at__lt=end),
            )
            for i, (start, end) in enumerate(weeks)
        },
    )
    n = range(len(weeks))
    return PlanActivity(
        open_by_week=[subscriptions[f"open{i}"] for i in n],
        cancelled_by_week=[subscriptions[f"cancelled{i}"] for i in n],
        booked_by_week=[visits[f"booked{i}"] for i in n],
        completed_by_week=[visits[f"completed{i}"] for i in n],
    )

"""The figures of the metrics page's maintenance plans section (metrics.report): plans open at each week's end, plan
visits booked and completed, and plans cancelled (churned) per week. Two aggregate
queries whatever the period or the data: one over subscriptions, one over plan visits,
grouped by day in the database and folded into weeks here."""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from plans.models import PlanVisit, Subscription
from retention.models import Job

from .periods import Period


@dataclass
class PlanActivity:
    open_by_week: list[int]  # subscriptions not cancelled at the week's end (active or paused)
    cancelled_by_week: list[int]
    booked_by_week: list[int]  # plan visits booked in the week
    completed_by_week: list[int]  # plan visits completed in the week


def plan_activity(period: Period) -> PlanActivity:
    """Two grouped queries (subscriptions by the days they began and ended; plan visits
    by the day booked and the day their job was completed), folded into weeks here."""
    tz = settings.TIME_ZONE
    params = {"tz": tz, "start": period.start, "end": period.end, "starts_at": period.starts_at, "ends_at": period.ends_at}
    with connection.cursor() as cursor:
        # Plans begun by the period's end and not cancelled before it began; days before
        # the period are one (the day before it), cancellations after it are none.
        cursor.execute(
            f"""
            SELECT GREATEST((created_at AT TIME ZONE %(tz)s)::date, %(start)s::date - 1),
                   CASE WHEN cancelled_at < %(ends_at)s THEN (cancelled_at AT TIME ZONE %(tz)s)::date END,
                   COUNT(*)
            FROM {Subscription._meta.db_table}
            WHERE created_at < %(ends_at)s AND (cancelled_at IS NULL OR cancelled_at >= %(starts_at)s)
            GROUP BY 1, 2
            """,
            params,
        )
        subscriptions = cursor.fetchall()
        cursor.execute(
            f"""
            SELECT 'booked', (v.created_at AT TIME ZONE %(tz)s)::date, COUNT(*)
            FROM {PlanVisit._meta.db_table} v
            WHERE v.created_at >= %(starts_at)s AND v.created_at < %(ends_at)s AND v.job_id IS NOT NULL
            GROUP BY 2
            UNION ALL
            SELECT 'completed', (j.completed_at AT TIME ZONE %(tz)s)::date, COUNT(*)
            FROM {PlanVisit._meta.db_table} v JOIN {Job._meta.db_table} j ON j.id = v.job_id
            WHERE j.status = %(completed)s AND j.completed_at >= %(starts_at)s AND j.completed_at < %(ends_at)s
            GROUP BY 2
            """,
            {**params, "completed": Job.Status.COMPLETED},
        )
        visits = cursor.fetchall()
    open_by_week = [0] * period.weeks
    cancelled = defaultdict(int)
    for created_on, cancelled_on, n in subscriptions:
        for i, week_end in enumerate(period.week_ends):
            if created_on <= week_end and (cancelled_on is None or cancelled_on > week_end):
                open_by_week[i] += n
        if cancelled_on is not None:
            cancelled[cancelled_on] += n
    by_kind = {"booked": defaultdict(int), "completed": defaultdict(int)}
    for kind, day, n in visits:
        by_kind[kind][day] += n
    return PlanActivity(
        open_by_week=open_by_week,
        cancelled_by_week=period.weekly(cancelled),
        booked_by_week=period.weekly(by_kind["booked"]),
        completed_by_week=period.weekly(by_kind["completed"]),
    )

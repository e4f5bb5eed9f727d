"""Customers per churn bucket as of given days, from the job history: one query
(CHURN_SQL). The page's churn section (metrics.selectors.churn_by_week) and the nightly
snapshots (metrics.rollup.rebuild) both count with it."""

import datetime as dt

from django.conf import settings
from django.db import connection

from reminders.selectors import churn_stage_starts
from retention.clock import start_of_business_day
from retention.models import Job

# The churn stages are reminders' (reminders.selectors.churn_stages(), which the staff
# churn view and win-back use too); CHURN_SQL is written for these four, in this order.
CHURN_BUCKETS = ("active", "cooling", "at_risk", "inactive")

# Days since the last booking (any job, by booking time) as of each week's last day, in
# reminders' churn stages (active < 30, cooling 30-59, at risk 60 up to
# WINBACK_INACTIVE_DAYS, inactive from there; the bounds are passed in from
# reminders.selectors.churn_stages()). A customer with a job scheduled ahead
# (retention.models.scheduled_ahead) is active. Customers who had not booked yet are
# left out.
#
# Rather than look up every customer at every week end (customers x weeks), each
# booking is the customer's "last booking" from its day until their next booking, and
# within that stretch the customer passes through the buckets in order at fixed ages.
# So each stretch moves one customer between buckets at a handful of week ends (+1
# into a bucket, -1 out of the previous one); summing those moves per week and then a
# running sum gives the counts. Only each customer's last booking up to the first week
# end and the bookings after it matter, so older history is first reduced to one row
# per customer. Moves at the same week end cancel out (a stretch shorter than a week).
CHURN_SQL = """
WITH before AS (
    -- Each customer's last booking up to the first week end (the booking-time index
    -- answers this alone), and until when something booked by then was scheduled
    -- ahead: from its booking through its day (the staff churn view counts a job on
    -- its day as ahead: scheduled_for >= today), or to its completion or cancellation
    -- if sooner; ahead_until is the first day it no longer is. Only jobs scheduled on
    -- or after the first week end can still be ahead then.
    SELECT last.customer_id, last.booked_at, ahead.ahead_until
    FROM (
        SELECT customer_id, MAX(created_at) AS booked_at
        FROM {job}
        WHERE created_at < %(first_end_at)s
        GROUP BY customer_id
    ) AS last
    LEFT JOIN (
        SELECT customer_id,
               MAX(LEAST(scheduled_for + 1, (completed_at AT TIME ZONE %(tz)s)::date,
                         (cancelled_at AT TIME ZONE %(tz)s)::date)) AS ahead_until
        FROM {job}
        WHERE created_at < %(first_end_at)s AND scheduled_for >= %(first_end)s::date
        GROUP BY customer_id
    ) AS ahead ON ahead.customer_id = last.customer_id
),
bookings AS (
    SELECT customer_id, (booked_at AT TIME ZONE %(tz)s)::date AS booked_on, ahead_until FROM before
    UNION ALL
    SELECT j.customer_id, (j.created_at AT TIME ZONE %(tz)s)::date,
           LEAST(j.scheduled_for + 1, (j.completed_at AT TIME ZONE %(tz)s)::date, (j.cancelled_at AT TIME ZONE %(tz)s)::date)
    FROM {job} j
    WHERE j.created_at >= %(first_end_at)s AND j.created_at < %(ends_at)s
),
stretches AS (
    SELECT booked_on,
           LEAD(booked_on) OVER w AS next_booked_on,
           GREATEST(booked_on + %(cooling_from)s, MAX(ahead_until) OVER (w ROWS UNBOUNDED PRECEDING)) AS active_until
    FROM bookings
    WINDOW w AS (PARTITION BY customer_id ORDER BY booked_on)
),
shapes AS (
    -- Stretches with the same dates move customers alike: count them once.
    SELECT booked_on, active_until, next_booked_on, COUNT(*) AS customers
    FROM stretches
    GROUP BY booked_on, active_until, next_booked_on
),
moves AS (
    -- The days a stretch moves its customers: into active when booked, then on into
    -- cooling, at risk and inactive, and out when the next booking ends it (all
    -- clipped to that next booking; NULL: not within the period).
    SELECT e.day, e.active * s.customers AS active, e.cooling * s.customers AS cooling,
           e.at_risk * s.customers AS at_risk, e.inactive * s.customers AS inactive
    FROM shapes s
    CROSS JOIN LATERAL (VALUES
        (s.booked_on, 1, 0, 0, 0),
        (LEAST(s.active_until, s.next_booked_on), -1, 1, 0, 0),
        (LEAST(GREATEST(s.booked_on + %(at_risk_from)s, s.active_until), s.next_booked_on), 0, -1, 1, 0),
        (LEAST(GREATEST(s.booked_on + %(inactive_from)s, s.active_until), s.next_booked_on), 0, 0, -1, 1),
        (s.next_booked_on, 0, 0, 0, -1)
    ) AS e(day, active, cooling, at_risk, inactive)
    WHERE e.day <= %(last_end)s::date
)
-- Each move counts from the first week end (or day: step 1) on or after its day
-- (moves before the first week end count from week 0).
SELECT GREATEST(0, (day - %(first_end)s::date + %(step)s - 1) / %(step)s) AS week,
       SUM(active), SUM(cooling), SUM(at_risk), SUM(inactive)
FROM moves
GROUP BY 1
"""


def churn_counts(*, first_end: dt.date, last_end: dt.date, step: int, count: int | None = None) -> dict[str, list[int]]:
    """Customers per churn bucket as of first_end and every `step` days after it, the
    last as of last_end: one query (CHURN_SQL)."""
    starts = churn_stage_starts()
    if tuple(starts) != CHURN_BUCKETS:
        raise ValueError(f"CHURN_SQL counts {CHURN_BUCKETS}; reminders' churn stages are {tuple(starts)}")
    count = count if count is not None else (last_end - first_end).days // step + 1
    with connection.cursor() as cursor:
        cursor.execute(
            CHURN_SQL.format(job=Job._meta.db_table),
            {
                "cooling_from": starts["cooling"],
                "at_risk_from": starts["at_risk"],
                "inactive_from": starts["inactive"],
                "tz": settings.TIME_ZONE,
                "step": step,
                "first_end": first_end,
                "last_end": last_end,
                "first_end_at": start_of_business_day(first_end + dt.timedelta(days=1)),
                "ends_at": start_of_business_day(last_end + dt.timedelta(days=1)),
            },
        )
        changes = cursor.fetchall()
    moves = {week: [int(n) for n in row] for week, *row in changes}  # SUM gives numeric
    counts = {bucket: [] for bucket in CHURN_BUCKETS}
    running = [0] * len(CHURN_BUCKETS)
    for index in range(count):
        running = [total + move for total, move in zip(running, moves.get(index, [0] * len(CHURN_BUCKETS)))]
        for bucket, total in zip(CHURN_BUCKETS, running):
            counts[bucket].append(total)
    return counts

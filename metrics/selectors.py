"""The aggregate queries behind the metrics page.

Every function runs a fixed number of queries for a period (most run one), grouped in
the database, so the page costs the same number of queries for ten customers or a
hundred thousand. Per-day groups are folded into weeks in Python: at most 364 rows.

Definitions (docs/metrics.md explains them for staff):
- A campaign or win-back cohort is the sends made in the period; a code counts as
  used when a booking applied it, whenever that happened; revenue is what the
  non-cancelled bookings that used those codes paid.
- A reminder "led to a booking" when its customer booked the same service, not
  cancelled, within 14 days after it was sent.
"""

import datetime as dt
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value, Window
from django.db.models.functions import RowNumber, TruncDate

from campaigns.models import Campaign, CampaignSend
from loyalty.models import LoyaltyAccount, PointsEntry, Reward, TierUpgrade
from loyalty.tiers import TIERS
from outbox.models import OutboundEmail
from reminders.models import ServiceReminder, WinbackSend
from reminders.selectors import churn_stage_starts
from retention.clock import start_of_business_day
from retention.models import Customer, Job, JobRun

from .periods import Period

BOOKED_WITHIN = dt.timedelta(days=14)
# The churn stages are reminders' (reminders.selectors.churn_stages(), which the staff
# churn view and win-back use too); CHURN_SQL is written for these four, in this order.
CHURN_BUCKETS = ("active", "cooling", "at_risk", "inactive")


@contextmanager
def reporting_queries():
    """One transaction for a page's queries, with PostgreSQL's JIT compiler off for
    it: JIT spends longer compiling these one-off aggregates than running them (the
    52-week page's queries on the benchmark data: 6.4 s with it, 4.9 s without)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def _in_period(period: Period, field: str, prefix: str = "") -> Q:
    return Q(**{f"{prefix}{field}__gte": period.starts_at, f"{prefix}{field}__lt": period.ends_at})


def _by_day(queryset, field: str, *group_by: str, **aggregates):
    """Rows of (day, *group_by, *aggregates) for a queryset already limited to the period."""
    return (
        queryset.annotate(day=TruncDate(field))
        .values("day", *group_by)
        .annotate(**aggregates)
        .order_by()
    )


def _days_by(rows, key: str, value: str) -> defaultdict[str, dict]:
    """{row[key]: {day: row[value]}} from _by_day rows grouped by one field."""
    days = defaultdict(dict)
    for row in rows:
        days[row[key]][row["day"]] = row[value]
    return days


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- Campaigns -----------------------------------------------------------------------


@dataclass
class CodeCohort:
    """Sends made in the period, their codes, and the bookings that used them."""

    name: str
    sent: int
    codes: int
    used: int
    revenue: Decimal

    @property
    def conversion(self) -> float | None:
        return _rate(self.used, self.codes)


def _cohort_aggregates() -> dict:
    job = "promo_code__job"
    return {
        "sent": Count("pk"),
        "codes": Count("promo_code"),
        "used": Count(job),
        "revenue": Sum(
            f"{job}__amount_paid",
            filter=~Q(**{f"{job}__status": Job.Status.CANCELLED}),
            default=Decimal("0.00"),
        ),
    }


def campaign_cohorts(period: Period) -> list[CodeCohort]:
    """One row per seasonal campaign (all of them, sent or not) and one for win-back.

    Three queries: the campaigns, their sends in the period grouped by campaign, and
    the win-back sends. Grouping the period's sends (rather than joining every send
    to its campaign) keeps the work proportional to the period.
    """
    sends = {
        row.pop("campaign"): row
        for row in CampaignSend.objects.filter(_in_period(period, "sent_at"))
        .values("campaign")
        .annotate(**_cohort_aggregates())
        .order_by()
    }
    nothing = {"sent": 0, "codes": 0, "used": 0, "revenue": Decimal("0.00")}
    rows = [
        CodeCohort(name=str(campaign), **sends.get(campaign.pk, nothing))
        for campaign in Campaign.objects.order_by("start_month", "title")
    ]
    winback = WinbackSend.objects.filter(_in_period(period, "sent_at")).aggregate(
        **_cohort_aggregates()
    )
    rows.append(CodeCohort(name="Win-back", **winback))
    return rows


def marketing_by_week(period: Period) -> dict[str, list[int]]:
    """Seasonal and win-back sends per week, and bookings made with their codes. Three queries."""
    seasonal = CampaignSend.objects.filter(_in_period(period, "sent_at"))
    winback = WinbackSend.objects.filter(_in_period(period, "sent_at"))
    bookings = Job.objects.filter(
        _in_period(period, "created_at"),
        Q(promo_code__campaign_send__isnull=False) | Q(promo_code__winback_send__isnull=False),
    )
    return {
        "seasonal": period.weekly(
            {r["day"]: r["n"] for r in _by_day(seasonal, "sent_at", n=Count("pk"))}
        ),
        "winback": period.weekly(
            {r["day"]: r["n"] for r in _by_day(winback, "sent_at", n=Count("pk"))}
        ),
        "bookings": period.weekly(
            {r["day"]: r["n"] for r in _by_day(bookings, "created_at", n=Count("pk"))}
        ),
    }


# --- Service-due reminders ------------------------------------------------------------


def _booked_after_reminder(period: Period) -> Exists:
    """Whether the reminded customer booked that service (not cancelled) within 14 days."""
    return Exists(
        Job.objects.filter(
            # Not needed for the answer, but it bounds the jobs looked at to the
            # period and the 14 days after it (the created_at index), not all history.
            created_at__gte=period.starts_at,
            created_at__lt=period.ends_at + BOOKED_WITHIN,
            customer=OuterRef("customer"),
            service_type=OuterRef("job__service_type"),
            created_at__gt=OuterRef("sent_at"),
            created_at__lte=OuterRef("sent_at") + Value(BOOKED_WITHIN),
        ).exclude(status=Job.Status.CANCELLED)
    )


@dataclass
class ReminderResults:
    sent: int
    booked: int  # reminders followed by a booking of that service within 14 days
    customers: int
    customers_booked: int
    sent_by_week: list[int]
    booked_by_week: list[int]

    @property
    def share_booked(self) -> float | None:
        return _rate(self.customers_booked, self.customers)


def reminder_results(period: Period) -> ReminderResults:
    """The weekly series and the totals, in two queries that each look for the
    bookings after a reminder once: per day and outcome, and distinct customers."""
    reminders = ServiceReminder.objects.filter(_in_period(period, "sent_at"))
    days = list(
        reminders.annotate(day=TruncDate("sent_at"), booked=_booked_after_reminder(period))
        .values("day", "booked")
        .annotate(n=Count("pk"))
        .order_by()
    )
    customers = reminders.aggregate(
        customers=Count("customer", distinct=True),
        customers_booked=Count("customer", distinct=True, filter=Q(_booked_after_reminder(period))),
    )
    sent, booked = defaultdict(int), defaultdict(int)
    for row in days:
        sent[row["day"]] += row["n"]
        if row["booked"]:
            booked[row["day"]] += row["n"]
    return ReminderResults(
        sent=sum(sent.values()),
        booked=sum(booked.values()),
        **customers,
        sent_by_week=period.weekly(sent),
        booked_by_week=period.weekly(booked),
    )


# --- Loyalty -------------------------------------------------------------------------


@dataclass
class PointsFlow:
    """Points moved in the period, by kind, totals and per week."""

    issued_by_week: list[int]  # earn + tier bonus + plan bonus
    redeemed_by_week: list[int]  # spent on rewards, as a positive number
    reversed: int  # taken back from cancelled jobs, as a positive number
    adjusted: int  # staff adjustments, signed

    @property
    def issued(self) -> int:
        return sum(self.issued_by_week)

    @property
    def redeemed(self) -> int:
        return sum(self.redeemed_by_week)


def points_flow(period: Period) -> PointsFlow:
    """One query: the period's ledger summed per day and type."""
    rows = _by_day(
        PointsEntry.objects.filter(_in_period(period, "created_at")),
        "created_at",
        "type",
        points=Sum("points"),
    )
    by_type = _days_by(rows, "type", "points")
    issued = defaultdict(int)
    for kind in PointsEntry.EARNED_TYPES:
        for day, points in by_type[kind].items():
            issued[day] += points
    return PointsFlow(
        issued_by_week=period.weekly(issued),
        redeemed_by_week=[-points for points in period.weekly(by_type[PointsEntry.Type.REDEEM])],
        reversed=-sum(by_type[PointsEntry.Type.REVERSAL].values()),
        adjusted=sum(by_type[PointsEntry.Type.ADJUSTMENT].values()),
    )


@dataclass
class TierCount:
    key: str
    name: str
    customers: int
    points: int  # their outstanding balance


def customers_by_tier() -> list[TierCount]:
    """Today's customers per tier and their balances. A customer without a loyalty
    account yet holds Bronze with no points. Two queries: the accounts grouped by tier,
    and the number of customers (cheaper than joining every customer to an account)."""
    found = {
        row["tier"]: row
        for row in LoyaltyAccount.objects.values("tier")
        .annotate(customers=Count("pk"), points=Sum("points"))
        .order_by()
    }
    without_account = Customer.objects.count() - sum(row["customers"] for row in found.values())
    return [
        TierCount(
            key=tier.key,
            name=tier.name,
            customers=found.get(tier.key, {}).get("customers", 0)
            + (without_account if tier.key == "bronze" else 0),
            points=found.get(tier.key, {}).get("points", 0),
        )
        for tier in TIERS
    ]


@dataclass
class RewardRedemptions:
    name: str
    points_cost: int
    active: bool
    redeemed: int
    points: int


def redemptions_by_reward(period: Period) -> list[RewardRedemptions]:
    """Every reward with its redemptions in the period, most redeemed first: one query."""
    in_period = _in_period(period, "created_at", "redemptions__")
    rewards = Reward.objects.annotate(
        redeemed=Count("redemptions", filter=in_period),
        points=Sum("redemptions__points_spent", filter=in_period, default=0),
    ).order_by("-redeemed", "points_cost", "name")
    return [
        RewardRedemptions(
            name=r.name,
            points_cost=r.points_cost,
            active=r.active,
            redeemed=r.redeemed,
            points=r.points,
        )
        for r in rewards
    ]


def tier_upgrades_by_week(period: Period) -> dict[str, list[int]]:
    """Upgrades per week by the tier reached (Silver, Gold, Platinum): one query."""
    rows = _by_day(
        TierUpgrade.objects.filter(_in_period(period, "created_at")),
        "created_at",
        "to_tier",
        n=Count("pk"),
    )
    by_tier = _days_by(rows, "to_tier", "n")
    return {tier.key: period.weekly(by_tier[tier.key]) for tier in TIERS[1:]}


# --- Customers -------------------------------------------------------------------------

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
-- Each move counts from the first week end on or after its day (moves before the
-- first week end count from week 0).
SELECT GREATEST(0, (day - %(first_end)s::date + 6) / 7) AS week,
       SUM(active), SUM(cooling), SUM(at_risk), SUM(inactive)
FROM moves
GROUP BY 1
"""


def churn_by_week(period: Period) -> dict[str, list[int]]:
    """Customers per churn bucket as of each week's last day: one query."""
    starts = churn_stage_starts()
    if tuple(starts) != CHURN_BUCKETS:
        raise ValueError(f"CHURN_SQL counts {CHURN_BUCKETS}; reminders' churn stages are {tuple(starts)}")
    with connection.cursor() as cursor:
        cursor.execute(
            CHURN_SQL.format(job=Job._meta.db_table),
            {
                "cooling_from": starts["cooling"],
                "at_risk_from": starts["at_risk"],
                "inactive_from": starts["inactive"],
                "tz": settings.TIME_ZONE,
                "weeks": period.weeks,
                "first_end": period.week_ends[0],
                "last_end": period.week_ends[-1],
                "first_end_at": start_of_business_day(period.week_ends[0] + dt.timedelta(days=1)),
                "ends_at": period.ends_at,
            },
        )
        changes = cursor.fetchall()
    moves = {week: [int(count) for count in row] for week, *row in changes}  # SUM gives numeric
    counts = {bucket: [] for bucket in CHURN_BUCKETS}
    running = [0] * len(CHURN_BUCKETS)
    for week in range(period.weeks):
        running = [
            total + move for total, move in zip(running, moves.get(week, [0] * len(CHURN_BUCKETS)))
        ]
        for bucket, total in zip(CHURN_BUCKETS, running):
            counts[bucket].append(total)
    return counts


# --- Scheduled jobs and email ----------------------------------------------------------


@dataclass
class JobRunSummary:
    name: str
    last: JobRun | None
    runs: int  # in the period
    failed: int  # in the period


def job_runs(period: Period) -> list[JobRunSummary]:
    """The last run of each scheduled job, and its runs and failures in the period. Two queries."""
    latest = JobRun.objects.annotate(
        recency=Window(
            RowNumber(), partition_by=F("name"), order_by=[F("started_at").desc(), F("pk").desc()]
        )
    ).filter(recency=1)
    last_by_name = {run.name: run for run in latest}
    counts = {
        row["name"]: row
        for row in JobRun.objects.filter(_in_period(period, "started_at"))
        .values("name")
        .annotate(runs=Count("pk"), failed=Count("pk", filter=Q(status=JobRun.Status.FAILED)))
        .order_by()
    }
    scheduled = [command for command, _ in settings.SCHEDULED_JOBS]  # shown even before their first run
    names = scheduled + sorted(set(last_by_name) - set(scheduled))
    return [
        JobRunSummary(
            name=name,
            last=last_by_name.get(name),
            runs=counts.get(name, {}).get("runs", 0),
            failed=counts.get(name, {}).get("failed", 0),
        )
        for name in names
    ]


EMAIL_STATUSES = [status.value for status in OutboundEmail.Status]


@dataclass
class EmailCounts:
    template: str
    kind: str
    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def emails_by_template(period: Period) -> list[EmailCounts]:
    """Emails queued in the period per template, by their delivery status now: one query."""
    rows = (
        OutboundEmail.objects.filter(_in_period(period, "created_at"))
        .values("template", "kind", "status")
        .annotate(n=Count("pk"))
        .order_by("template", "kind")
    )
    found: dict[tuple[str, str], EmailCounts] = {}
    for row in rows:
        counts = found.setdefault(
            (row["template"], row["kind"]),
            EmailCounts(
                template=row["template"],
                kind=row["kind"],
                by_status=dict.fromkeys(EMAIL_STATUSES, 0),
            ),
        )
        counts.by_status[row["status"]] = row["n"]
    return list(found.values())


def emails_sent_by_week(period: Period) -> dict[str, list[int]]:
    """Emails delivered per week by kind (marketing, reminder, transactional): one query."""
    rows = _by_day(
        OutboundEmail.objects.filter(
            _in_period(period, "sent_at"), status=OutboundEmail.Status.SENT
        ),
        "sent_at",
        "kind",
        n=Count("pk"),
    )
    by_kind = _days_by(rows, "kind", "n")
    return {kind.value: period.weekly(by_kind[kind.value]) for kind in OutboundEmail.Kind}

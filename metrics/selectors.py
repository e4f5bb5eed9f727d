"""The aggregate queries behind the metrics page.

Every function runs a fixed number of queries for a period, grouped in the database,
so the page costs the same number of queries for ten customers or a hundred thousand.
Most figures are daily figures (metrics.rollup): the nightly roll-up for past days,
counted from the records for today and for days changed since, read for every
section at once and summed per week in the database.

Definitions (docs/metrics.md explains them for staff):
- A campaign or win-back cohort is the sends made in the period; a code counts as
  used when a booking applied it, whenever that happened; revenue is what the
  non-cancelled bookings that used those codes paid.
- A reminder "led to a booking" when its customer booked the same service, not
  cancelled, within 14 days after it was sent.
"""

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber

from campaigns.models import Campaign
from loyalty.models import LoyaltyAccount, PointsEntry, Reward
from loyalty.tiers import TIERS
from outbox.models import OutboundEmail
from retention.models import Customer, JobRun

from . import rollup
from .figure_sql import BOOKED_WITHIN_DAYS
from .churn import CHURN_BUCKETS, churn_counts  # noqa: F401 (CHURN_BUCKETS: the buckets' order)
from .periods import Period

BOOKED_WITHIN = dt.timedelta(days=BOOKED_WITHIN_DAYS)


@contextmanager
def reporting_queries():
    """One transaction for a page's queries, with PostgreSQL's JIT compiler off for
    it: JIT spends longer compiling these one-off aggregates than running them (the
    52-week page's queries on the benchmark data: 6.4 s with it, 4.9 s without)."""
    with transaction.atomic(), rollup.page_cache(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def _in_period(period: Period, field: str, prefix: str = "") -> Q:
    return Q(**{f"{prefix}{field}__gte": period.starts_at, f"{prefix}{field}__lt": period.ends_at})


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


def campaign_cohorts(period: Period) -> list[CodeCohort]:
    """One row per seasonal campaign (all of them, sent or not) and one for win-back:
    the campaigns (one query) and the period's daily figures (metrics.rollup)."""
    found = rollup.figures(period)

    def cohort(name: str, prefix: str, key: str) -> CodeCohort:
        return CodeCohort(
            name=name,
            sent=int(found.total(f"{prefix}_sent", key)),
            codes=int(found.total(f"{prefix}_codes", key)),
            used=int(found.total(f"{prefix}_used", key)),
            revenue=found.total(f"{prefix}_revenue", key) + Decimal("0.00"),
        )

    rows = [
        cohort(str(campaign), "seasonal", str(campaign.pk))
        for campaign in Campaign.objects.order_by("start_month", "title")
    ]
    rows.append(cohort("Win-back", "winback", ""))
    return rows


def marketing_by_week(period: Period) -> dict[str, list[int]]:
    """Seasonal and win-back sends per week, and bookings made with their codes."""
    found = rollup.figures(period)
    seasonal = [0] * period.weeks
    for key in found.keys("seasonal_sent"):
        seasonal = [a + b for a, b in zip(seasonal, found.counts("seasonal_sent", key))]
    return {
        "seasonal": seasonal,
        "winback": found.counts("winback_sent"),
        "bookings": found.counts("marketing_bookings"),
    }


# --- Service-due reminders ------------------------------------------------------------


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
    """The weekly series and the totals, from the period's daily figures: reminders
    sent and followed by a booking per day, and each day's reminded customers with
    whether they booked (so distinct customers are counted over the whole period)."""
    found = rollup.figures(period)
    sent, booked = found.counts("reminders_sent"), found.counts("reminders_booked")
    return ReminderResults(
        sent=sum(sent),
        booked=sum(booked),
        customers=int(found.total("reminded", "customers")),
        customers_booked=int(found.total("reminded", "booked")),
        sent_by_week=sent,
        booked_by_week=booked,
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
    """The period's ledger summed per week and type (daily figures)."""
    found = rollup.figures(period)
    issued = [0] * period.weeks
    for kind in PointsEntry.EARNED_TYPES:
        issued = [a + b for a, b in zip(issued, found.counts("points", kind))]
    return PointsFlow(
        issued_by_week=issued,
        redeemed_by_week=[-points for points in found.counts("points", PointsEntry.Type.REDEEM)],
        reversed=-int(found.total("points", PointsEntry.Type.REVERSAL)),
        adjusted=int(found.total("points", PointsEntry.Type.ADJUSTMENT)),
    )


@dataclass
class TierCount:
    key: str
    name: str
    customers: int
    points: int  # their outstanding balance


def customers_by_tier() -> list[TierCount]:
    """Today's customers per tier and their balances. A customer without a loyalty
    account yet holds Bronze with no points. One query: one pass over the accounts with
    a conditional count and sum per tier (cheaper than grouping by the tier's text), and
    the number of customers (cheaper than joining every customer to an account)."""
    columns = ", ".join(
        f"COUNT(*) FILTER (WHERE tier = %(t{i})s), COALESCE(SUM(points) FILTER (WHERE tier = %(t{i})s), 0)"
        for i in range(len(TIERS))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {Customer._meta.db_table}), COUNT(*), {columns} "
            f"FROM {LoyaltyAccount._meta.db_table}",
            {f"t{i}": tier.key for i, tier in enumerate(TIERS)},
        )
        customers, accounts, *per_tier = cursor.fetchone()
    without_account = customers - accounts
    return [
        TierCount(
            key=tier.key,
            name=tier.name,
            customers=per_tier[2 * i] + (without_account if tier.key == "bronze" else 0),
            points=int(per_tier[2 * i + 1]),
        )
        for i, tier in enumerate(TIERS)
    ]


@dataclass
class RewardRedemptions:
    name: str
    points_cost: int
    active: bool
    redeemed: int
    points: int


def redemptions_by_reward(period: Period) -> list[RewardRedemptions]:
    """Every reward with its redemptions in the period, most redeemed first: the rewards
    (one query) and the daily figures."""
    found = rollup.figures(period)
    rows = [
        RewardRedemptions(
            name=r.name,
            points_cost=r.points_cost,
            active=r.active,
            redeemed=int(found.total("redeemed", str(r.pk))),
            points=int(found.total("redeemed_points", str(r.pk))),
        )
        for r in Reward.objects.order_by("pk")
    ]
    return sorted(rows, key=lambda r: (-r.redeemed, r.points_cost, r.name))


def tier_upgrades_by_week(period: Period) -> dict[str, list[int]]:
    """Upgrades per week by the tier reached (Silver, Gold, Platinum): daily figures."""
    found = rollup.figures(period)
    return {tier.key: found.counts("upgrades", tier.key) for tier in TIERS[1:]}


# --- Customers -------------------------------------------------------------------------


def churn_by_week(period: Period) -> dict[str, list[int]]:
    """Customers per churn bucket as of each week's last day, the last week as of
    yesterday (rollup.churn_as_of: today's are counted tonight): the nightly snapshots
    when they are all there and untouched, else counted from the facts. One query."""
    stored = rollup.stored_churn(period, rollup.figures(period))
    if stored is not None:
        return stored
    return churn_counts(
        first_end=period.week_ends[0], last_end=rollup.churn_as_of(period), step=7, count=period.weeks
    )


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
    """Emails queued in the period per template, by their delivery status now (daily
    figures, keyed kind:status:template)."""
    found = rollup.figures(period)
    totals: dict[tuple[str, str], EmailCounts] = {}
    for key in found.keys("emails"):
        kind, status, template = key.split(":", 2)
        counts = totals.setdefault(
            (template, kind),
            EmailCounts(template=template, kind=kind, by_status=dict.fromkeys(EMAIL_STATUSES, 0)),
        )
        counts.by_status[status] = int(found.total("emails", key))
    return [totals[key] for key in sorted(totals)]


def emails_sent_by_week(period: Period) -> dict[str, list[int]]:
    """Emails delivered per week by kind (marketing, reminder, transactional): daily figures."""
    found = rollup.figures(period)
    return {kind.value: found.counts("delivered", kind.value) for kind in OutboundEmail.Kind}

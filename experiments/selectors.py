"""The holdout comparison: for each campaign season and each win-back month, mailed
against held-out customers on bookings and revenue within 30 days of their as-of day.

Two queries whatever the data size: one aggregate over the assignments (each probing
its customer's bookings through the job index on customer and booking time), grouped
by send, season and side, and one for the holdouts staff ended. The statistics are
experiments.stats.

Definitions (docs/holdouts.md explains them for staff): a customer "booked" when they
booked any job (not cancelled) in the 30 days from the start of their as-of day, and
their revenue is what those jobs paid. A comparison is "not conclusive yet" while
the 30 days after its last run have not passed, or while the lift's interval includes
zero.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils.dates import MONTHS

from retention.clock import business_today
from retention.models import Job

from .models import Assignment, HoldoutEnd, Send
from .stats import Interval, mean_interval, newcombe_difference, welch_difference, wilson

WINDOW_DAYS = 30


@dataclass
class Group:
    """One side of a comparison: its customers, how many booked, and their revenue."""

    customers: int = 0
    booked: int = 0
    revenue: Decimal = Decimal("0.00")
    revenue_squares: Decimal = Decimal("0")

    @property
    def booking_rate(self) -> Interval | None:
        return wilson(self.booked, self.customers)

    @property
    def revenue_per_customer(self) -> Interval | None:
        return mean_interval(self.revenue, self.revenue_squares, self.customers)


@dataclass
class Comparison:
    """A campaign season (or a win-back month): mailed against held out."""

    send: str
    campaign_id: object
    season: str
    label: str
    first_as_of: dt.date
    last_as_of: dt.date
    mailed: Group
    held_out: Group
    ended: HoldoutEnd | None = None
    today: dt.date | None = None

    @property
    def slug(self) -> str:
        return f"{self.send}-{self.campaign_id or 'all'}-{self.season}"

    @property
    def groups(self) -> tuple[Group, Group]:
        """Mailed, then held out: side by side on the page."""
        return self.mailed, self.held_out

    @property
    def window_closes(self) -> dt.date:
        """The day the last run's customers have had their 30 days."""
        return self.last_as_of + dt.timedelta(days=WINDOW_DAYS)

    @property
    def window_closed(self) -> bool:
        return (self.today or business_today()) >= self.window_closes

    @property
    def lift(self) -> Interval | None:
        """Mailed booking rate minus held-out booking rate, with Newcombe's interval."""
        return newcombe_difference(
            self.mailed.booked, self.mailed.customers, self.held_out.booked, self.held_out.customers
        )

    @property
    def revenue_lift(self) -> Interval | None:
        """Revenue per mailed customer minus per held-out customer (Welch)."""
        return welch_difference(
            self.mailed.revenue, self.mailed.revenue_squares, self.mailed.customers,
            self.held_out.revenue, self.held_out.revenue_squares, self.held_out.customers,
        )

    @property
    def incremental_bookings(self) -> Interval | None:
        """Customers who booked because they were mailed: lift x mailed customers."""
        return self.lift.times(self.mailed.customers) if self.lift else None

    @property
    def incremental_revenue(self) -> Interval | None:
        return self.revenue_lift.times(self.mailed.customers) if self.revenue_lift else None

    @property
    def conclusive(self) -> bool:
        return self.window_closed and self.lift is not None and not self.lift.includes_zero

    @property
    def verdict(self) -> str:
        """In words, for staff: what the comparison says so far."""
        if self.lift is None:
            return "Not conclusive yet: one of the groups is empty."
        if not self.window_closed:
            return (
                f"Not conclusive yet: the customers of the last run have their 30 days until "
                f"{self.window_closes:%b} {self.window_closes.day}, {self.window_closes.year}."
            )
        if self.lift.includes_zero:
            return (
                "Not conclusive yet: the interval includes zero, so the difference may be chance. "
                "More customers (or a larger holdout) narrow it."
            )
        direction = "raised" if self.lift.estimate > 0 else "lowered"
        return f"Conclusive: mailing {direction} the booking rate."



def _campaign_model():
    """Campaign, through the assignment's foreign key: campaigns imports experiments
    (to hold out), so experiments does not import campaigns back (tests/test_layers.py)."""
    return Assignment._meta.get_field("campaign").related_model


def _label(send: str, season: str, title: str | None, season_name: str | None) -> str:
    if send == Send.WINBACK:
        year, month = season.split("-")
        return f"Win-back, {MONTHS[int(month)]} {year}"
    emoji = _campaign_model().EMOJI.get(season_name, "")
    return f"{emoji} {title} ({season_name} {season})".strip()


def _comparison_sql() -> str:
    """Per send, campaign, season and side: customers, how many booked, the revenue and
    its sum of squares (for the variance), and the first and last as-of day; for the
    sends with a run in [start, end]. Built from the models' _meta."""
    quote = connection.ops.quote_name
    a, j, c = Assignment._meta, Job._meta, _campaign_model()._meta

    def col(meta, name):
        return quote(meta.get_field(name).column)

    customer, as_of = col(a, "customer"), col(a, "as_of")
    keys = [col(a, "send"), col(a, "campaign"), col(a, "season")]
    key_list = ", ".join(f"a.{k}" for k in keys)
    campaign_key = f"coalesce({keys[1]}::text, '')"  # win-back has no campaign
    return f"""
    WITH touched AS (
        SELECT DISTINCT {keys[0]}, {campaign_key} AS campaign_key, {keys[2]} FROM {quote(a.db_table)}
        WHERE {as_of} BETWEEN %(start)s AND %(end)s
    )
    SELECT {key_list}, a.{col(a, "held_out")}, c.{col(c, "title")}, c.{col(c, "season")},
           count(*), count(*) FILTER (WHERE outcome.bookings > 0),
           coalesce(sum(outcome.revenue), 0), coalesce(sum(outcome.revenue * outcome.revenue), 0),
           min(a.{as_of}), max(a.{as_of})
    FROM {quote(a.db_table)} a
    JOIN touched t ON t.{keys[0]} = a.{keys[0]} AND t.campaign_key = coalesce(a.{keys[1]}::text, '')
         AND t.{keys[2]} = a.{keys[2]}
    LEFT JOIN {quote(c.db_table)} c ON c.{quote(c.pk.column)} = a.{keys[1]}
    CROSS JOIN LATERAL (
        SELECT count(*) AS bookings, coalesce(sum(j.{col(j, "amount_paid")}), 0) AS revenue
        FROM {quote(j.db_table)} j
        WHERE j.{col(j, "customer")} = a.{customer}
          AND j.{col(j, "status")} <> %(cancelled)s
          AND j.{col(j, "created_at")} >= (a.{as_of}::timestamp AT TIME ZONE %(tz)s)
          AND j.{col(j, "created_at")} < ((a.{as_of} + %(window)s)::timestamp AT TIME ZONE %(tz)s)
    ) outcome
    GROUP BY {key_list}, a.{col(a, "held_out")}, c.{col(c, "title")}, c.{col(c, "season")}
    """


def holdout_comparisons(start: dt.date, end: dt.date, *, today: dt.date | None = None) -> list[Comparison]:
    """Every campaign season and win-back month with a run between start and end (the
    whole season or month is compared), newest first. Two queries."""
    params = {
        "cancelled": Job.Status.CANCELLED,
        "tz": settings.TIME_ZONE,
        "window": WINDOW_DAYS,
        "start": start,
        "end": end,
    }
    with connection.cursor() as cursor:
        cursor.execute(_comparison_sql(), params)
        rows = cursor.fetchall()
    ends = {(e.send, e.campaign_id): e for e in HoldoutEnd.objects.select_related("ended_by")}
    comparisons: dict[tuple, Comparison] = {}
    for send, campaign_id, season, held_out, title, season_name, n, booked, revenue, squares, first, last in rows:
        key = (send, campaign_id, season)
        comparison = comparisons.get(key)
        if comparison is None:
            comparison = comparisons[key] = Comparison(
                send=send,
                campaign_id=campaign_id,
                season=season,
                label=_label(send, season, title, season_name),
                first_as_of=first,
                last_as_of=last,
                mailed=Group(),
                held_out=Group(),
                ended=ends.get((send, campaign_id)),
                today=today,
            )
        comparison.first_as_of = min(comparison.first_as_of, first)
        comparison.last_as_of = max(comparison.last_as_of, last)
        group = Group(customers=n, booked=booked, revenue=revenue, revenue_squares=squares)
        if held_out:
            comparison.held_out = group
        else:
            comparison.mailed = group
    return sorted(comparisons.values(), key=lambda c: (c.last_as_of, c.label), reverse=True)

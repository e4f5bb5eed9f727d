"""Daily roll-ups: the metrics page reads closed days from metrics_dailyfigure and counts
only the rest from the facts, with the same SQL (docs/metrics.md, "Daily roll-ups").

Each figure group (metrics.figure_sql) is one SQL statement that counts its figures per business day
for a set of days: the nightly job (refresh_metrics) runs it for the days it rebuilds
and stores the rows; the page runs it only for the days it must count from the facts
(`live days`): today, days not rolled up (or rolled up under other definitions), and
days a journalled change (metrics.models.Change, written by triggers in the writers'
transactions) has touched since. Stored rows and live rows are then summed per week in
one query, so the page's figures are exactly what counting every day from the facts
gives.

Churn is a snapshot per day (customers per bucket as of the day's end), written
nightly; the page reads the snapshots at its week ends, the last one as of yesterday.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from reminders.selectors import churn_stage_starts
from retention.clock import business_today

from .churn import CHURN_BUCKETS, churn_counts
from .figure_sql import GROUPS, counted_sql
from .models import Change, DailyFigure, RemindedCustomer, RolledUpDay
from .periods import Period

# How far back the nightly job keeps the roll-up complete: the widest period (52
# weeks) and a week more.
KEEP_DAYS = 52 * 7 + 7
# Raised when a group's SQL changes what it counts: every stored day is then recounted.
DEFINITIONS = 1


def version() -> str:
    """The definitions a day is counted with: a day rolled up under others is recounted."""
    starts = churn_stage_starts()
    return f"v{DEFINITIONS};{settings.TIME_ZONE};churn {starts['cooling']},{starts['at_risk']},{starts['inactive']}"


def _tz_params() -> dict:
    return {"tz": settings.TIME_ZONE}


def affected_days(marks: Iterable[tuple[str, dt.date]], kinds: tuple[tuple[str, int], ...]) -> set[dt.date]:
    touched = dict(kinds)
    days = set()
    for kind, day in marks:
        if kind in touched:
            days.update(day - dt.timedelta(days=back) for back in range(touched[kind] + 1))
    return days


# --- The page's read ------------------------------------------------------------------


@dataclass
class Figures:
    """The period's daily figures summed per week, from the roll-up and the facts."""

    period: Period
    weekly: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)
    totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    counted_from_facts: list[dt.date] = field(default_factory=list)  # closed days not (validly) rolled up
    rolled_up: set[dt.date] = field(default_factory=set)  # the period's days rolled up under today's definitions
    marks: set[tuple[str, dt.date]] = field(default_factory=set)  # the journal: (kind, business day)

    def week_values(self, figure: str, key: str = "") -> list[Decimal]:
        return self.weekly.get((figure, key), [Decimal(0)] * self.period.weeks)

    def counts(self, figure: str, key: str = "") -> list[int]:
        return [int(v) for v in self.week_values(figure, key)]

    def total(self, figure: str, key: str = "") -> Decimal:
        return self.totals.get((figure, key), Decimal(0))

    def keys(self, figure: str) -> list[str]:
        return sorted(key for f, key in self.weekly if f == figure)


_cache: ContextVar[dict | None] = ContextVar("metrics_rollup_cache", default=None)


@contextmanager
def page_cache():
    """Within it, figures(period) reads once per period (the page's sections share it)."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def figures(period: Period) -> Figures:
    cache = _cache.get()
    if cache is not None and period in cache:
        return cache[period]
    found = _read(period)
    if cache is not None:
        cache[period] = found
    return found


META_SQL = """
SELECT 'day', day FROM metrics_rolledupday WHERE day >= %(start)s AND day <= %(end)s AND version = %(version)s
UNION ALL
SELECT DISTINCT kind, (at AT TIME ZONE %(tz)s)::date FROM metrics_change
"""


def _read(period: Period) -> Figures:
    today = business_today()
    params = {**_tz_params(), "start": period.start, "end": period.end, "version": version()}
    with connection.cursor() as cursor:
        cursor.execute(META_SQL, params)
        meta = cursor.fetchall()
    rolled_up = {day for kind, day in meta if kind == "day"}
    marks = {(kind, day) for kind, day in meta if kind != "day"}
    days = [period.start + dt.timedelta(days=i) for i in range(period.weeks * 7)]
    closed = [day for day in days if day < today]
    not_rolled_up = [day for day in closed if day not in rolled_up]
    base = set(not_rolled_up) | {day for day in days if day >= today}
    live = {
        group.name: sorted((base | affected_days(marks, group.touched_by)) & set(days)) for group in GROUPS
    }
    found = Figures(period=period, counted_from_facts=not_rolled_up, rolled_up=rolled_up, marks=marks)
    # Stored rows of the period, less each group's live days (one scan of the day index),
    # and the live rows (a small CTE once the roll-up holds the past).
    cases = " ".join(
        f"WHEN '{figure}' THEN %(not_stored_{group.name})s::date[]" for group in GROUPS for figure in group.figures
    )
    for group in GROUPS:
        params[f"not_stored_{group.name}"] = live[group.name]
    sql = f"""
    WITH live AS MATERIALIZED ({counted_sql(live, params)}),
    daily AS (
        SELECT day, figure, key, value FROM {DailyFigure._meta.db_table}
        WHERE day >= %(start)s AND day <= %(end)s
          AND NOT (day = ANY(CASE figure {cases} ELSE ARRAY[]::date[] END))
        UNION ALL
        SELECT day, figure, key, value FROM live WHERE figure <> 'reminded'
    ),
    reminded AS (
        SELECT COUNT(*) AS customers, COUNT(*) FILTER (WHERE booked) AS booked FROM (
            SELECT customer_id, bool_or(booked) AS booked FROM (
                SELECT customer_id, booked FROM {RemindedCustomer._meta.db_table}
                WHERE day >= %(start)s AND day <= %(end)s AND NOT (day = ANY(%(not_stored_reminders)s::date[]))
                UNION ALL
                SELECT key::bigint, value > 0 FROM live WHERE figure = 'reminded'
            ) AS r
            GROUP BY customer_id
        ) AS c
    )
    SELECT figure, key, (day - %(start)s::date) / 7 AS week, SUM(value) FROM daily GROUP BY 1, 2, 3
    UNION ALL
    SELECT 'reminded', f.key, NULL, f.value FROM reminded
    CROSS JOIN LATERAL (VALUES ('customers', reminded.customers), ('booked', reminded.booked)) AS f(key, value)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for figure, key, week, value in rows:
        value = value if value is not None else Decimal(0)
        if week is None:
            found.totals[(figure, key)] = value
            continue
        weeks = found.weekly.setdefault((figure, key), [Decimal(0)] * period.weeks)
        weeks[week] += value
        found.totals[(figure, key)] = found.totals.get((figure, key), Decimal(0)) + value
    return found


# --- Churn snapshots ----------------------------------------------------------------------


def churn_as_of(period: Period) -> dt.date:
    """The day the period's last churn counts are as of: its last day if closed, else yesterday."""
    return min(period.end, business_today() - dt.timedelta(days=1))


def stored_churn(period: Period, found: Figures) -> dict[str, list[int]] | None:
    """The snapshots at the period's week ends (the last as of churn_as_of), or None if
    one is missing, counted under other definitions, or touched by a change since."""
    as_of = churn_as_of(period)
    wanted = [end for end in period.week_ends[:-1]] + [as_of]
    rolled_up = found.rolled_up
    history = [day for kind, day in found.marks if kind == "history"]
    earliest_change = min(history) if history else None
    if any(day not in rolled_up for day in wanted):
        return None
    if earliest_change is not None and earliest_change <= as_of:
        return None
    rows = DailyFigure.objects.filter(figure="churn", day__in=wanted).values_list("day", "key", "value")
    by_day = defaultdict(dict)
    for day, key, value in rows:
        by_day[day][key] = int(value)
    return {bucket: [by_day[day].get(bucket, 0) for day in wanted] for bucket in CHURN_BUCKETS}


# --- The nightly job ----------------------------------------------------------------------


def rebuild(days: Iterable[dt.date]) -> int:
    """Recounts the given closed days from the facts and stores them: every group's
    figures and the churn snapshot. Idempotent: a day rebuilt twice holds the same rows."""
    days = sorted(set(days))
    if not days:
        return 0
    today = business_today()
    if days[-1] >= today:
        raise ValueError(f"{days[-1]} is not closed yet (today is {today}): only past days are rolled up")
    params = _tz_params()
    table = DailyFigure._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        reminded = RemindedCustomer._meta.db_table
        cursor.execute(f"DELETE FROM {table} WHERE day = ANY(%(days)s::date[])", {"days": days})
        cursor.execute(f"DELETE FROM {reminded} WHERE day = ANY(%(days)s::date[])", {"days": days})
        sql = counted_sql({group.name: days for group in GROUPS}, params)
        cursor.execute(
            f"""WITH counted AS ({sql}),
            daily AS (
                INSERT INTO {table} (day, figure, key, value)
                SELECT day, figure, key, value FROM counted WHERE figure <> 'reminded' AND value <> 0
            )
            INSERT INTO {reminded} (day, customer_id, booked)
            SELECT day, key::bigint, value > 0 FROM counted WHERE figure = 'reminded'""",
            params,
        )
        churn = churn_counts(first_end=days[0], last_end=days[-1], step=1)
        wanted = set(days)
        snapshot = [
            (days[0] + dt.timedelta(days=i), bucket, counts[i])
            for bucket, counts in churn.items()
            for i in range(len(counts))
            if days[0] + dt.timedelta(days=i) in wanted
        ]
        cursor.execute(
            f"INSERT INTO {table} (day, figure, key, value) "
            "SELECT d, 'churn', k, v FROM unnest(%(d)s::date[], %(k)s::text[], %(v)s::numeric[]) AS s(d, k, v)",
            {"d": [r[0] for r in snapshot], "k": [r[1] for r in snapshot], "v": [r[2] for r in snapshot]},
        )
        now = timezone.now()
        cursor.execute(
            f"INSERT INTO {RolledUpDay._meta.db_table} (day, refreshed_at, version) "
            "SELECT d, %(now)s, %(version)s FROM unnest(%(days)s::date[]) AS d "
            "ON CONFLICT (day) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, version = EXCLUDED.version",
            {"days": days, "now": now, "version": version()},
        )
    return len(days)


def catch_up(as_of: dt.date, *, first: dt.date | None = None) -> dict:
    """The nightly run: rebuilds yesterday, every closed day since `first` (default: the
    last KEEP_DAYS days) not rolled up under today's definitions, and every day a
    journalled change touched; then drops the journal entries it read (entries written
    meanwhile stay, for the next run)."""
    today = business_today()
    last = min(as_of, today) - dt.timedelta(days=1)
    first = first or last - dt.timedelta(days=KEEP_DAYS - 1)
    window = {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
    with transaction.atomic():
        journal = list(Change.objects.values_list("pk", "kind", "at"))
        marks = {(kind, timezone.localtime(at).date()) for _pk, kind, at in journal}
        touched = set()
        for group in GROUPS:
            touched |= affected_days(marks, group.touched_by)
        history = [day for kind, day in marks if kind == "history"]
        if history:
            touched |= {day for day in window if day >= min(history)}
        current = set(
            RolledUpDay.objects.filter(day__gte=first, day__lte=last, version=version()).values_list("day", flat=True)
        )
        missing = window - current
        days = sorted(({last} | missing | touched) & window)
        rebuild(days)
        Change.objects.filter(pk__in=[pk for pk, _kind, _at in journal]).delete()
    return {"days": len(window), "rebuilt": len(days), "missing": len(missing), "touched": len(touched & window), "changes": len(journal)}

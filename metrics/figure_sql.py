"""The metrics page's daily figures as SQL: each figure group is one statement that
counts its figures per business day for a given set of days (day, figure, key, value).
The nightly roll-up stores what they count for closed days and the page runs them for
the days it must count from the records (metrics.rollup), so both count alike."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from retention.clock import start_of_business_day

BOOKED_WITHIN_DAYS = 14  # a reminder or recommendation led to a booking within 14 days


def day_of(column: str) -> str:
    return f"({column} AT TIME ZONE %(tz)s)::date"


class Days:
    """A set of business days as SQL: OR'ed ranges of moments (one per run of
    consecutive days), so the created_at/sent_at indexes serve each run."""

    def __init__(self, name: str, days: Iterable[dt.date], params: dict):
        self.days = sorted(set(days))
        self.name = name
        self.params = params
        self.runs: list[tuple[dt.date, dt.date]] = []
        for day in self.days:
            if self.runs and self.runs[-1][1] + dt.timedelta(days=1) == day:
                self.runs[-1] = (self.runs[-1][0], day)
            else:
                self.runs.append((day, day))
        for i, (first, last) in enumerate(self.runs):
            params[f"{name}_from{i}"] = start_of_business_day(first)
            params[f"{name}_to{i}"] = start_of_business_day(last + dt.timedelta(days=1))

    def where(self, column: str) -> str:
        if not self.runs:
            return "false"
        return "(" + " OR ".join(
            f"({column} >= %({self.name}_from{i})s AND {column} < %({self.name}_to{i})s)"
            for i in range(len(self.runs))
        ) + ")"


@dataclass(frozen=True)
class Group:
    """Figures counted together, and the journalled kinds that touch their days: (kind,
    days back), e.g. a job booked on day d can change the outcome of reminders sent on
    days d-14 to d."""

    name: str
    figures: tuple[str, ...]
    touched_by: tuple[tuple[str, int], ...]
    sql: str  # {where} takes a timestamp column and limits it to the days


def _unpivot(inner: str, pairs: list[tuple[str, str]]) -> str:
    values = ", ".join(f"('{figure}', g.{column}::numeric)" for figure, column in pairs)
    return (
        f"SELECT g.day, f.figure, g.key, f.value FROM ({inner}) AS g "
        f"CROSS JOIN LATERAL (VALUES {values}) AS f(figure, value)"
    )


GROUPS = [
    Group(
        "seasonal",
        ("seasonal_sent", "seasonal_codes"),
        (("campaignsend", 0),),
        _unpivot(
            f"SELECT {day_of('s.sent_at')} AS day, s.campaign_id::text AS key, COUNT(*) AS sent, "
            "COUNT(s.promo_code_id) AS codes FROM campaigns_campaignsend s WHERE {where[s.sent_at]} GROUP BY 1, 2",
            [("seasonal_sent", "sent"), ("seasonal_codes", "codes")],
        ),
    ),
    Group(
        "seasonal_outcomes",
        ("seasonal_used", "seasonal_revenue"),
        (("campaignsend", 0), ("code", 0)),
        _unpivot(
            f"SELECT {day_of('s.sent_at')} AS day, s.campaign_id::text AS key, COUNT(j.id) AS used, "
            "COALESCE(SUM(j.amount_paid) FILTER (WHERE j.status <> 'cancelled'), 0) AS revenue "
            "FROM campaigns_campaignsend s LEFT JOIN retention_job j ON j.promo_code_id = s.promo_code_id "
            "WHERE {where[s.sent_at]} GROUP BY 1, 2",
            [("seasonal_used", "used"), ("seasonal_revenue", "revenue")],
        ),
    ),
    Group(
        "winback",
        ("winback_sent", "winback_codes", "winback_used", "winback_revenue"),
        (("winbacksend", 0), ("code", 0)),
        _unpivot(
            f"SELECT {day_of('w.sent_at')} AS day, '' AS key, COUNT(*) AS sent, COUNT(w.promo_code_id) AS codes, "
            "COUNT(j.id) AS used, COALESCE(SUM(j.amount_paid) FILTER (WHERE j.status <> 'cancelled'), 0) AS revenue "
            "FROM reminders_winbacksend w LEFT JOIN retention_job j ON j.promo_code_id = w.promo_code_id "
            "WHERE {where[w.sent_at]} GROUP BY 1, 2",
            [("winback_sent", "sent"), ("winback_codes", "codes"), ("winback_used", "used"), ("winback_revenue", "revenue")],
        ),
    ),
    Group(
        "marketing_bookings",
        ("marketing_bookings",),
        (("job", 0),),
        f"SELECT {day_of('j.created_at')} AS day, 'marketing_bookings' AS figure, '' AS key, COUNT(*)::numeric AS value "
        "FROM retention_job j WHERE {where[j.created_at]} AND j.promo_code_id IS NOT NULL AND ("
        "EXISTS (SELECT 1 FROM campaigns_campaignsend s WHERE s.promo_code_id = j.promo_code_id) OR "
        "EXISTS (SELECT 1 FROM reminders_winbacksend w WHERE w.promo_code_id = j.promo_code_id)) GROUP BY 1",
    ),
    Group(
        "reminders",
        ("reminders_sent", "reminders_booked", "reminded"),
        # A booking on day d can follow reminders sent up to 14 days before it (15 days of
        # business time when a clock change falls between).
        (("reminder", 0), ("job", BOOKED_WITHIN_DAYS + 1)),
        # booked: the reminded customer booked that service (not cancelled) within 14 days.
        f"""(WITH r AS MATERIALIZED (
            SELECT {day_of('r.sent_at')} AS day, r.customer_id, EXISTS (
                SELECT 1 FROM retention_job j
                WHERE j.customer_id = r.customer_id AND j.service_type_id = rj.service_type_id
                  AND j.created_at > r.sent_at AND j.created_at <= r.sent_at + interval '{BOOKED_WITHIN_DAYS} days'
                  AND j.status <> 'cancelled'
            ) AS booked
            FROM reminders_servicereminder r LEFT JOIN retention_job rj ON rj.id = r.job_id
            WHERE {{where[r.sent_at]}}
        )
        SELECT day, 'reminders_sent' AS figure, '' AS key, COUNT(*)::numeric AS value FROM r GROUP BY day
        UNION ALL SELECT day, 'reminders_booked', '', COUNT(*) FILTER (WHERE booked) FROM r GROUP BY day
        UNION ALL SELECT day, 'reminded', customer_id::text, MAX(booked::int) FROM r GROUP BY day, customer_id)""",
    ),
    Group(
        "points",
        ("points",),
        (("pointsentry", 0),),
        f"SELECT {day_of('e.created_at')} AS day, 'points' AS figure, e.type AS key, SUM(e.points)::numeric AS value "
        "FROM loyalty_pointsentry e WHERE {where[e.created_at]} GROUP BY 1, 3",
    ),
    Group(
        "redemptions",
        ("redeemed", "redeemed_points"),
        (("redemption", 0),),
        _unpivot(
            f"SELECT {day_of('r.created_at')} AS day, r.reward_id::text AS key, COUNT(*) AS n, "
            "SUM(r.points_spent) AS points FROM loyalty_redemption r WHERE {where[r.created_at]} GROUP BY 1, 2",
            [("redeemed", "n"), ("redeemed_points", "points")],
        ),
    ),
    Group(
        "upgrades",
        ("upgrades",),
        (("tierupgrade", 0),),
        f"SELECT {day_of('u.created_at')} AS day, 'upgrades' AS figure, u.to_tier AS key, COUNT(*)::numeric AS value "
        "FROM loyalty_tierupgrade u WHERE {where[u.created_at]} GROUP BY 1, 3",
    ),
    Group(
        "emails",
        ("emails",),
        (("email", 0),),
        # key: kind:status:template (the template, last, may hold colons).
        f"SELECT {day_of('e.created_at')} AS day, 'emails' AS figure, e.kind || ':' || e.status || ':' || e.template AS key, "
        "COUNT(*)::numeric AS value FROM retention_outboundemail e WHERE {where[e.created_at]} GROUP BY 1, 3",
    ),
    Group(
        "delivered",
        ("delivered",),
        (("email", 0),),
        f"SELECT {day_of('e.sent_at')} AS day, 'delivered' AS figure, e.kind AS key, COUNT(*)::numeric AS value "
        "FROM retention_outboundemail e WHERE {where[e.sent_at]} AND e.status = 'sent' GROUP BY 1, 3",
    ),
]
class _Where:
    def __init__(self, days: Days):
        self.days = days

    def __getitem__(self, column: str) -> str:
        return self.days.where(column)


def counted_sql(days_by_group: dict[str, Iterable[dt.date]], params: dict) -> str:
    """One statement: every group's figures per day, for its own days (day, figure, key,
    value). Groups without days are left out."""
    parts = []
    for group in GROUPS:
        days = Days(f"live_{group.name}", days_by_group.get(group.name, ()), params)
        if days.days:
            parts.append(f"SELECT day, figure, key, value FROM ({group.sql.format(where=_Where(days))}) AS {group.name}")
    return "\nUNION ALL\n".join(parts) or "SELECT NULL::date, NULL::text, NULL::text, NULL::numeric WHERE false"

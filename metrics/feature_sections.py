"""The metrics page's sections for the features built on the core: holdout groups,
referrals, maintenance plans and recommendations (metrics.report lists them with the
core's sections)."""

from dataclasses import dataclass

from experiments.selectors import holdout_comparisons
from referrals.selectors import referral_funnel

from .charts import bar_chart, interval_chart, line_chart
from .layout import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    RED,
    Column,
    Section,
    Series,
    Table,
    _weekly_table,
    format_percent,
)
from .periods import Period
from .plans import plan_activity
from .recommendations import recommendation_conversion

HOLDOUT_EXPLANATION = (
    "A holdout is a control group: of the customers a seasonal campaign or win-back would mail, "
    "a random share (HOLDOUT_PERCENT, 10% by default) is sent nothing. Both groups are alike in "
    "everything but the email, so the difference in how many of them book within 30 days is "
    "what the email caused; customers who would have booked anyway are in both. The lift is "
    "measured on a sample, so it comes with a 95% interval: the range the true effect very likely "
    "lies in. While that range includes zero, the campaign may have made no difference at all, "
    "and the numbers say \"not conclusive yet\"; more customers narrow it."
)


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class HoldoutPart:
    """One campaign season (or win-back month) on the page: its comparison and the
    lift's interval drawn."""

    comparison: object  # experiments.selectors.Comparison
    lift_chart: object | None
    revenue_chart: object | None

    @property
    def charts(self) -> list:
        return [chart for chart in (self.lift_chart, self.revenue_chart) if chart]


def holdouts_section(period: Period) -> Section:
    comparisons = holdout_comparisons(period.start, period.end, today=period.end)
    parts = []
    for c in comparisons:
        lift, revenue_lift = c.lift, c.revenue_lift
        parts.append(
            HoldoutPart(
                comparison=c,
                lift_chart=lift and interval_chart(
                    slug=f"lift-{c.slug}",
                    title="Lift in booking rate (mailed minus held out), 95% interval",
                    estimate=lift.estimate, low=lift.low, high=lift.high,
                    color=GREEN if c.conclusive else GREY,
                ),
                revenue_chart=revenue_lift and interval_chart(
                    slug=f"revenue-{c.slug}",
                    title="Difference in revenue per customer, 95% interval",
                    estimate=revenue_lift.estimate, low=revenue_lift.low, high=revenue_lift.high,
                    unit="$", color=BLUE,
                ),
            )
        )

    def interval(i, part):
        return getattr(i, part) if i is not None else None

    rows = []
    for c in comparisons:
        m, h = c.mailed, c.held_out
        rows.append([
            c.label, c.first_as_of, c.last_as_of, c.window_closes,
            m.customers, m.booked, interval(m.booking_rate, "estimate"),
            h.customers, h.booked, interval(h.booking_rate, "estimate"),
            interval(c.lift, "estimate"), interval(c.lift, "low"), interval(c.lift, "high"),
            interval(m.revenue_per_customer, "estimate"), interval(h.revenue_per_customer, "estimate"),
            interval(c.revenue_lift, "low"), interval(c.revenue_lift, "high"),
            _rounded(interval(c.incremental_bookings, "estimate")),
            _rounded(interval(c.incremental_revenue, "estimate"), 2),
            "yes" if c.conclusive else "not yet",
            c.ended.ended_at if c.ended else None,
        ])
    return Section(
        slug="holdouts",
        title="Holdout groups: what the marketing caused",
        intro=HOLDOUT_EXPLANATION,
        template="metrics/_holdouts.html",
        parts=parts,
        tables=[
            Table(
                slug="holdouts",
                title="Holdout comparisons",
                columns=[
                    Column("Campaign and season", "text"),
                    Column("First run", "date"),
                    Column("Last run", "date"),
                    Column("30 days over on", "date"),
                    Column("Mailed customers"),
                    Column("Mailed who booked"),
                    Column("Mailed booking rate", "percent"),
                    Column("Held-out customers"),
                    Column("Held out who booked"),
                    Column("Held-out booking rate", "percent"),
                    Column("Lift", "percent"),
                    Column("Lift 95% low", "percent"),
                    Column("Lift 95% high", "percent"),
                    Column("Revenue per mailed customer", "money"),
                    Column("Revenue per held-out customer", "money"),
                    Column("Revenue difference 95% low", "money"),
                    Column("Revenue difference 95% high", "money"),
                    Column("Incremental bookings"),
                    Column("Incremental revenue", "money"),
                    Column("Conclusive", "text"),
                    Column("Holdout ended", "datetime"),
                ],
                rows=rows,
                weekly=True,  # folded away on screen (the comparisons above show it), in full in CSV
            )
        ],
        note=(
            "Bookings are jobs booked (not cancelled) in the 30 days from the customer's run; revenue "
            "is what they paid. Intervals: Newcombe's hybrid score method for the lift, Welch's for "
            "revenue (docs/holdouts.md)."
        ),
    )


def referrals_section(period: Period) -> Section:
    """The referral funnel in the period, one query (referrals.selectors.referral_funnel)."""
    funnel = referral_funnel(
        starts_at=period.starts_at, ends_at=period.ends_at, first_day=period.start, last_day=period.end
    )
    steps = [
        ("Links opened", funnel.opened),
        ("Sign-ups", funnel.signups),
        ("First jobs completed", funnel.first_jobs),
        ("Rewards given", funnel.rewards),
    ]
    return Section(
        slug="referrals",
        title="Referrals",
        intro=(
            "Each step counted in the period on its own: customers' referral links opened by others, "
            "friends who signed up through one, friends whose first job was completed, advocates "
            "rewarded for it (reversed rewards left out), and referrals a fraud rule or the yearly "
            "cap blocked."
        ),
        figures=[(name, f"{value:,}") for name, value in steps] + [("Blocked", f"{funnel.blocked:,}")],
        tables=[
            Table(
                slug="referral-funnel",
                title="Referral funnel",
                columns=[Column("Step", "text"), Column("Count"), Column("Of the step before", "percent")],
                rows=[
                    [name, value, _rate_of(value, steps[i - 1][1]) if i else None]
                    for i, (name, value) in enumerate(steps)
                ]
                + [["Blocked", funnel.blocked, None]],
            )
        ],
    )


def plans_section(period: Period) -> Section:
    activity = plan_activity(period)
    visit_series = [
        Series("Plan visits booked", activity.booked_by_week, BLUE),
        Series("Plan visits completed", activity.completed_by_week, GREEN),
    ]
    plan_series = [
        Series("Open plans at the week's end", activity.open_by_week, ORANGE),
        Series("Plans cancelled", activity.cancelled_by_week, RED),
    ]
    return Section(
        slug="plans",
        title="Maintenance plans",
        intro=(
            "Plans open (active or paused) at each week's end and plans cancelled in each week, and "
            "the plan visits booked (by subscribing, skipping, resuming or the daily job) and completed."
        ),
        figures=[
            ("Open plans", f"{activity.open_by_week[-1]:,}"),
            ("Plans cancelled", f"{sum(activity.cancelled_by_week):,}"),
            ("Visits booked", f"{sum(activity.booked_by_week):,}"),
            ("Visits completed", f"{sum(activity.completed_by_week):,}"),
        ],
        charts=[
            line_chart(slug="plans", title="Open and cancelled plans per week", week_ends=period.week_ends, series=plan_series),
            bar_chart(
                slug="plan-visits", title="Plan visits booked and completed per week",
                week_ends=period.week_ends, series=visit_series, stacked=False,
            ),
        ],
        tables=[
            _weekly_table("plans-weekly", "Plans and plan visits per week", period, plan_series + visit_series),
        ],
    )


def recommendations_section(period: Period) -> Section:
    """Per reason, customers shown a recommendation and who booked it (metrics.recommendations)."""
    rows = recommendation_conversion(period)
    return Section(
        slug="recommendations",
        title="Recommendations",
        intro=(
            "Customers shown a recommendation in the period, by its reason, and those who booked that "
            "service (not cancelled) within 14 days of being shown it. Each service is recorded once per "
            "customer and day, with the reason it was first shown for that day."
        ),
        figures=[
            (
                f"{r.reason}: booked within 14 days",
                f"{r.customers_booked:,} of {r.customers:,} ({format_percent(r.share_booked)})",
            )
            for r in rows
        ],
        tables=[
            Table(
                slug="recommendations",
                title="Recommendations by reason",
                columns=[
                    Column("Reason", "text"),
                    Column("Customers shown"),
                    Column("Booked that service within 14 days"),
                    Column("Share who booked", "percent"),
                ],
                rows=[[r.reason, r.customers, r.customers_booked, r.share_booked] for r in rows],
            )
        ],
        note="A recommendation shown in the last 14 days has not had its full 14 days yet.",
    )


def _rate_of(part: int, whole: int) -> float | None:
    return part / whole if whole else None

"""The metrics page as sections of charts and tables, built from metrics.selectors.

A Table holds raw values (ints, Decimals, rates as fractions, datetimes); the page
formats them for people and the CSV export writes them for spreadsheets, so both
always show the same numbers.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from experiments.selectors import holdout_comparisons
from loyalty.tiers import TIERS_BY_KEY
from outbox.models import OutboundEmail
from referrals.selectors import referral_funnel
from reminders.selectors import churn_stages

from . import selectors
from .charts import Chart, Series, bar_chart, interval_chart, line_chart
from .periods import Period
from .plans import plan_activity

# Colours that stay apart in print and for the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, PURPLE, RED, YELLOW, GREY = (
    "#1f77b4",
    "#e8710a",
    "#1b9e4b",
    "#7b4fb3",
    "#c9302c",
    "#c9a100",
    "#6b7280",
)


@dataclass
class Column:
    name: str
    kind: str = "int"  # text, int, money, percent, datetime, date, status


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[list]
    total: list | None = None  # an optional last row, set apart
    weekly: bool = False  # one row per week: folded away on screen, in full in CSV

    @property
    def body(self) -> list[list[tuple]]:
        """Rows as (value, kind) cells, for the template."""
        return [self._cells(row) for row in self.rows]

    @property
    def footer(self) -> list[tuple] | None:
        return self._cells(self.total) if self.total else None

    def _cells(self, row: list) -> list[tuple]:
        return [(value, column.kind) for value, column in zip(row, self.columns)]

    @property
    def csv_rows(self) -> list[list]:
        return self.rows + ([self.total] if self.total else [])


@dataclass
class Section:
    slug: str
    title: str
    intro: str
    figures: list[tuple[str, str]] = field(default_factory=list)  # headline (label, value)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    note: str = ""
    # A section's own markup, shown before its tables, given `section` and `parts`.
    template: str = ""
    parts: list = field(default_factory=list)


def _weekly_table(slug: str, title: str, period: Period, series: list[Series]) -> Table:
    columns = [Column("Week ending", "date")] + [Column(s.name) for s in series]
    rows = [
        [week_end] + [s.values[i] for s in series] for i, week_end in enumerate(period.week_ends)
    ]
    return Table(slug=slug, title=title, columns=columns, rows=rows, weekly=True)


def format_percent(rate: float | None) -> str:
    if rate is None:
        return "–"
    return f"{rate * 100:.1f}".removesuffix(".0") + "%"


def campaigns_section(period: Period) -> Section:
    cohorts = selectors.campaign_cohorts(period)
    weekly = selectors.marketing_by_week(period)
    totals = selectors.CodeCohort(
        name="All campaigns and win-back",
        sent=sum(c.sent for c in cohorts),
        codes=sum(c.codes for c in cohorts),
        used=sum(c.used for c in cohorts),
        revenue=sum((c.revenue for c in cohorts), Decimal("0.00")),
    )
    series = [
        Series("Seasonal emails", weekly["seasonal"], BLUE),
        Series("Win-back emails", weekly["winback"], PURPLE),
        Series("Bookings with their codes", weekly["bookings"], GREEN),
    ]

    def row(c: selectors.CodeCohort) -> list:
        return [c.name, c.sent, c.codes, c.used, c.conversion, c.revenue]

    return Section(
        slug="campaigns",
        title="Campaigns",
        intro=(
            "Sends made in the period, one email and one personal code each, and how many of those "
            "codes were used at booking since. Revenue is what the bookings that used them paid, "
            "cancelled bookings left out."
        ),
        figures=[
            ("Emails sent", f"{totals.sent:,}"),
            ("Codes used at booking", f"{totals.used:,}"),
            ("Conversion", format_percent(totals.conversion)),
            ("Revenue", f"${totals.revenue:,.2f}"),
        ],
        charts=[
            bar_chart(
                slug="marketing",
                title="Marketing emails and bookings with their codes, per week",
                week_ends=period.week_ends,
                series=series,
                stacked=False,
            )
        ],
        tables=[
            Table(
                slug="campaigns",
                title="Seasonal campaigns and win-back",
                columns=[
                    Column("Campaign", "text"),
                    Column("Emails sent"),
                    Column("Promo codes created"),
                    Column("Codes used at booking"),
                    Column("Conversion", "percent"),
                    Column("Revenue", "money"),
                ],
                rows=[row(c) for c in cohorts],
                total=row(totals),
            ),
            _weekly_table(
                "marketing-weekly", "Marketing emails and bookings per week", period, series
            ),
        ],
    )


def reminders_section(period: Period) -> Section:
    results = selectors.reminder_results(period)
    series = [
        Series("Reminders sent", results.sent_by_week, BLUE),
        Series("Followed by a booking within 14 days", results.booked_by_week, GREEN),
    ]
    return Section(
        slug="reminders",
        title="Service-due reminders",
        intro=(
            "Reminders sent in the period, and the reminded customers who booked that service again "
            "(not cancelled) within 14 days of a reminder."
        ),
        figures=[
            ("Reminders sent", f"{results.sent:,}"),
            ("Customers reminded", f"{results.customers:,}"),
            ("Booked within 14 days", format_percent(results.share_booked)),
        ],
        charts=[
            bar_chart(
                slug="reminders",
                title="Reminders and the bookings they led to, per week",
                week_ends=period.week_ends,
                series=series,
                stacked=False,
            )
        ],
        tables=[
            Table(
                slug="reminders",
                title="Reminders",
                columns=[
                    Column("Reminders sent"),
                    Column("Reminders followed by a booking"),
                    Column("Customers reminded"),
                    Column("Customers who booked within 14 days"),
                    Column("Share of reminded customers who booked", "percent"),
                ],
                rows=[
                    [
                        results.sent,
                        results.booked,
                        results.customers,
                        results.customers_booked,
                        results.share_booked,
                    ]
                ],
            ),
            _weekly_table("reminders-weekly", "Reminders per week", period, series),
        ],
        note="A reminder sent in the last 14 days has not had its full 14 days yet.",
    )


def loyalty_section(period: Period) -> Section:
    flow = selectors.points_flow(period)
    tiers = selectors.customers_by_tier()
    rewards = selectors.redemptions_by_reward(period)
    upgrades = selectors.tier_upgrades_by_week(period)
    outstanding = sum(t.points for t in tiers)
    points_series = [
        Series("Points issued", flow.issued_by_week, BLUE),
        Series("Points redeemed", flow.redeemed_by_week, ORANGE),
    ]
    upgrade_colors = {"silver": GREY, "gold": YELLOW, "platinum": PURPLE}
    upgrade_series = [
        Series(f"To {TIERS_BY_KEY[key].name}", weeks, upgrade_colors[key])
        for key, weeks in upgrades.items()
    ]
    return Section(
        slug="loyalty",
        title="Loyalty",
        intro=(
            "Points issued (earned plus tier bonuses) and redeemed in the period; the outstanding "
            "balance is every customer's points today, what the program still owes."
        ),
        figures=[
            ("Points issued", f"{flow.issued:,}"),
            ("Points redeemed", f"{flow.redeemed:,}"),
            ("Outstanding (liability)", f"{outstanding:,}"),
            ("Tier upgrades", f"{sum(sum(s.values) for s in upgrade_series):,}"),
        ],
        charts=[
            line_chart(
                slug="points",
                title="Points issued and redeemed per week",
                week_ends=period.week_ends,
                series=points_series,
            ),
            bar_chart(
                slug="tier-upgrades",
                title="Tier upgrades per week",
                week_ends=period.week_ends,
                series=upgrade_series,
            ),
        ],
        tables=[
            Table(
                slug="points",
                title="Points",
                columns=[
                    Column("Issued"),
                    Column("Redeemed"),
                    Column("Reversed (cancelled jobs)"),
                    Column("Staff adjustments (net)"),
                    Column("Outstanding today"),
                ],
                rows=[[flow.issued, flow.redeemed, flow.reversed, flow.adjusted, outstanding]],
            ),
            Table(
                slug="rewards",
                title="Rewards redeemed",
                columns=[
                    Column("Reward", "text"),
                    Column("Cost in points"),
                    Column("Redeemed"),
                    Column("Points spent"),
                ],
                rows=[
                    [
                        r.name + ("" if r.active else " (inactive)"),
                        r.points_cost,
                        r.redeemed,
                        r.points,
                    ]
                    for r in rewards
                ],
                total=[
                    "All rewards",
                    None,
                    sum(r.redeemed for r in rewards),
                    sum(r.points for r in rewards),
                ],
            ),
            Table(
                slug="tiers",
                title="Customers per tier today",
                columns=[Column("Tier", "text"), Column("Customers"), Column("Points outstanding")],
                rows=[[t.name, t.customers, t.points] for t in tiers],
                total=["All customers", sum(t.customers for t in tiers), outstanding],
            ),
            _weekly_table("points-weekly", "Points per week", period, points_series),
            _weekly_table("tier-upgrades", "Tier upgrades per week", period, upgrade_series),
        ],
    )


def customers_section(period: Period) -> Section:
    churn = selectors.churn_by_week(period)
    colours = {"active": GREEN, "cooling": YELLOW, "at_risk": ORANGE, "inactive": RED}
    series = [Series(stage.label, churn[stage.key], colours[stage.key]) for stage in churn_stages()]
    first, last = period.week_ends[0], period.week_ends[-1]
    at_risk_change = churn["at_risk"][-1] - churn["at_risk"][0]
    return Section(
        slug="customers",
        title="Customers",
        intro=(
            "Customers by days since their last booking, as of each week's last day. A customer with "
            "a job scheduled ahead counts as active; customers who had not booked yet are not counted."
        ),
        figures=[
            ("Active", f"{churn['active'][-1]:,}"),
            ("Cooling", f"{churn['cooling'][-1]:,}"),
            ("At risk", f"{churn['at_risk'][-1]:,}"),
            ("Inactive", f"{churn['inactive'][-1]:,}"),
            (f"At risk since {first:%b} {first.day}", f"{at_risk_change:+,}"),
        ],
        charts=[
            line_chart(
                slug="churn",
                title=f"Customers per churn bucket, weeks ending {first:%b} {first.day} to {last:%b} {last.day}",
                week_ends=period.week_ends,
                series=series,
            )
        ],
        tables=[_weekly_table("churn", "Customers per churn bucket per week", period, series)],
    )


def jobs_section(period: Period) -> Section:
    runs = selectors.job_runs(period)
    emails = selectors.emails_by_template(period)
    sent_weekly = selectors.emails_sent_by_week(period)
    kind_names = dict(OutboundEmail.Kind.choices)
    kind_colors = {"marketing": BLUE, "reminder": GREEN, "transactional": GREY}
    email_series = [
        Series(kind_names[kind], weeks, kind_colors.get(kind, GREY))
        for kind, weeks in sent_weekly.items()
    ]
    statuses = selectors.EMAIL_STATUSES
    status_names = dict(OutboundEmail.Status.choices)
    failing = [r.name for r in runs if r.last and r.last.status == "failed"]
    return Section(
        slug="jobs",
        title="Scheduled jobs and email",
        intro="The last run of each scheduled job, and the emails queued in the period by their delivery status now.",
        figures=[("Jobs whose last run failed", f"{len(failing)}")],
        charts=[
            bar_chart(
                slug="emails",
                title="Emails delivered per week",
                week_ends=period.week_ends,
                series=email_series,
            )
        ],
        tables=[
            Table(
                slug="job-runs",
                title="Last run of each scheduled job",
                columns=[
                    Column("Job", "text"),
                    Column("Status", "status"),
                    Column("As of", "date"),
                    Column("Started", "datetime"),
                    Column("Finished", "datetime"),
                    Column("Eligible"),
                    Column("Sent"),
                    Column("Skipped"),
                    Column("Failed"),
                    Column("Error", "text"),
                    Column("Runs in period"),
                    Column("Failed runs in period"),
                ],
                rows=[
                    [
                        r.name,
                        r.last.status if r.last else "never run",
                        r.last.as_of if r.last else None,
                        r.last.started_at if r.last else None,
                        r.last.finished_at if r.last else None,
                        *[
                            (r.last.stats or {}).get(key) if r.last else None
                            for key in ("eligible", "sent", "skipped", "failed")
                        ],
                        (r.last.error or (r.last.stats or {}).get("error", "")) if r.last else "",
                        r.runs,
                        r.failed,
                    ]
                    for r in runs
                ],
            ),
            Table(
                slug="emails",
                title="Emails queued in the period",
                columns=[Column("Template", "text"), Column("Kind", "text")]
                + [Column(status_names[s]) for s in statuses]
                + [Column("Total")],
                rows=[
                    [e.template, kind_names.get(e.kind, e.kind)]
                    + [e.by_status[s] for s in statuses]
                    + [e.total]
                    for e in emails
                ],
                total=["All emails", ""]
                + [sum(e.by_status[s] for e in emails) for s in statuses]
                + [sum(e.total for e in emails)],
            ),
            _weekly_table("emails-weekly", "Emails delivered per week", period, email_series),
        ],
    )


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


def _rate_of(part: int, whole: int) -> float | None:
    return part / whole if whole else None


SECTIONS: list[Callable[[Period], Section]] = [
    campaigns_section,
    holdouts_section,
    reminders_section,
    loyalty_section,
    referrals_section,
    customers_section,
    plans_section,
    jobs_section,
]


# Which section builds each exportable table, so an export runs only that section's queries.
TABLE_SECTIONS: dict[str, Callable[[Period], Section]] = {
    "campaigns": campaigns_section,
    "marketing-weekly": campaigns_section,
    "holdouts": holdouts_section,
    "reminders": reminders_section,
    "reminders-weekly": reminders_section,
    "points": loyalty_section,
    "rewards": loyalty_section,
    "tiers": loyalty_section,
    "points-weekly": loyalty_section,
    "tier-upgrades": loyalty_section,
    "referral-funnel": referrals_section,
    "churn": customers_section,
    "job-runs": jobs_section,
    "emails": jobs_section,
    "emails-weekly": jobs_section,
    "plans-weekly": plans_section,
}


def build_report(period: Period) -> list[Section]:
    with selectors.reporting_queries():
        return [build(period) for build in SECTIONS]


def build_table(slug: str, period: Period) -> Table | None:
    build = TABLE_SECTIONS.get(slug)
    if build is None:
        return None
    with selectors.reporting_queries():
        return next((t for t in build(period).tables if t.slug == slug), None)


def csv_value(value, kind: str) -> str:
    """A cell as a spreadsheet reads it: plain numbers, rates as percentages, ISO dates."""
    if value is None:
        return ""
    if kind == "percent":
        return f"{value * 100:.1f}"
    if kind == "money":
        return f"{value:.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)

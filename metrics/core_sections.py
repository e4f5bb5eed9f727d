"""The core's sections of the metrics page: campaigns, reminders, loyalty, customers,
jobs and email, built from metrics.selectors (metrics.report lists them with the
features' sections, metrics.feature_sections)."""

from decimal import Decimal

from loyalty.tiers import TIERS_BY_KEY
from outbox.models import OutboundEmail
from reminders.selectors import churn_stages

from . import rollup, selectors
from .charts import bar_chart, line_chart
from .layout import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    RED,
    YELLOW,
    Column,
    Section,
    Series,
    Table,
    _weekly_table,
    format_percent,
)
from .periods import Period


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
    as_of = rollup.churn_as_of(period)
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
        note=(
            f"Counted as of each week's last day; the last week as of {as_of:%b} {as_of.day}, the end of "
            "the last full day (each day's counts are written that night)."
            if as_of != last
            else ""
        ),
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

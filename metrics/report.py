"""The metrics page: every section in page order (the core's in metrics.core_sections,
the features' in metrics.feature_sections), which section builds each exportable table,
and the page and an export built in one reporting transaction."""

from collections.abc import Callable

from . import rollup, selectors
from .core_sections import (
    campaigns_section,
    customers_section,
    jobs_section,
    loyalty_section,
    reminders_section,
)
from .feature_sections import (
    holdouts_section,
    plans_section,
    recommendations_section,
    referrals_section,
)
from .layout import Section, Table, csv_value
from .periods import Period

__all__ = ["build_page", "build_report", "build_table", "csv_value", "SECTIONS", "TABLE_SECTIONS"]


SECTIONS: list[Callable[[Period], Section]] = [
    campaigns_section,
    holdouts_section,
    reminders_section,
    recommendations_section,
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
    "recommendations": recommendations_section,
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
    return build_page(period)[0]


def build_page(period: Period) -> tuple[list[Section], str]:
    """The sections, and a notice when some closed days of the period had to be counted
    from the facts because the nightly roll-up does not hold them (yet)."""
    with selectors.reporting_queries():
        sections = [build(period) for build in SECTIONS]
        missing = rollup.figures(period).counted_from_facts
    notice = ""
    if missing:
        notice = (
            f"{len(missing)} of the period's past days ({missing[0]:%b} {missing[0].day} to "
            f"{missing[-1]:%b} {missing[-1].day}) are not in the nightly roll-up yet (refresh_metrics): "
            "they were counted from the records just now, so the figures are right but the page is slower."
        )
    return sections, notice


def build_table(slug: str, period: Period) -> Table | None:
    build = TABLE_SECTIONS.get(slug)
    if build is None:
        return None
    with selectors.reporting_queries():
        return next((t for t in build(period).tables if t.slug == slug), None)

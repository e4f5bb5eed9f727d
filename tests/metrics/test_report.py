"""Every figure on the metrics page against hand-built data with known answers
(tests/metrics/conftest.py describes each data set)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from metrics import report
from metrics.periods import Period

from .conftest import TODAY


def table(section, slug):
    return next(t for t in section.tables if t.slug == slug)


def column(tbl, name):
    index = [c.name for c in tbl.columns].index(name)
    return [row[index] for row in tbl.rows]


def test_the_period_is_whole_weeks_ending_today(four_weeks):
    assert four_weeks.start == dt.date(2026, 5, 7)
    assert four_weeks.week_ends == [
        dt.date(2026, 5, 13),
        dt.date(2026, 5, 20),
        dt.date(2026, 5, 27),
        TODAY,
    ]
    assert Period.last(52, today=TODAY).start == TODAY - dt.timedelta(days=363)
    with pytest.raises(ValueError):
        Period.last(5, today=TODAY)


def test_campaign_figures(campaign_data, four_weeks):
    section = report.campaigns_section(four_weeks)
    campaigns = table(section, "campaigns")
    rows = {row[0]: row[1:] for row in campaigns.rows}
    # sent, codes created, codes used, conversion, revenue
    assert rows["🌸 Spring refresh"] == [10, 10, 3, 0.3, Decimal("132.00")]
    assert rows["☀️ Summer splash"] == [4, 4, 0, 0.0, Decimal("0.00")]
    assert rows["🍂 Fall cleanup"] == [0, 0, 0, None, Decimal("0.00")]
    assert rows["Win-back"] == [5, 5, 2, 0.4, Decimal("160.00")]
    assert campaigns.total == ["All campaigns and win-back", 19, 19, 5, 5 / 19, Decimal("292.00")]
    assert dict(section.figures) == {
        "Emails sent": "19",
        "Codes used at booking": "5",
        "Conversion": "26.3%",
        "Revenue": "$292.00",
    }

    weekly = table(section, "marketing-weekly")
    assert column(weekly, "Seasonal emails") == [4, 3, 2, 5]
    assert column(weekly, "Win-back emails") == [2, 0, 3, 0]
    # Bookings made in the period with any campaign or win-back code, including the
    # two codes sent before it (booked May 8 and 9).
    assert column(weekly, "Bookings with their codes") == [3, 1, 1, 2]


def test_campaign_csv_export(campaign_data, staff_client):
    response = staff_client.get("/admin/metrics/campaigns.csv?weeks=4")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "retention-campaigns-2026-05-07-to-2026-06-03.csv" in response["Content-Disposition"]
    # UTF-8 with a byte order mark, so Excel keeps the emoji of the campaign names.
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Campaign",
        "Emails sent",
        "Promo codes created",
        "Codes used at booking",
        "Conversion (%)",
        "Revenue",
    ]
    assert ["🌸 Spring refresh", "10", "10", "3", "30.0", "132.00"] in rows
    assert ["Win-back", "5", "5", "2", "40.0", "160.00"] in rows
    assert ["🍂 Fall cleanup", "0", "0", "0", "", "0.00"] in rows
    assert rows[-1] == ["All campaigns and win-back", "19", "19", "5", "26.3", "292.00"]


def test_reminder_figures(reminder_data, four_weeks):
    section = report.reminders_section(four_weeks)
    assert table(section, "reminders").rows == [[6, 3, 5, 2, 0.4]]
    assert dict(section.figures) == {
        "Reminders sent": "6",
        "Customers reminded": "5",
        "Booked within 14 days": "40%",
    }
    weekly = table(section, "reminders-weekly")
    assert column(weekly, "Reminders sent") == [3, 1, 1, 1]
    assert column(weekly, "Followed by a booking within 14 days") == [1, 0, 1, 1]


def test_loyalty_figures(loyalty_data, four_weeks):
    section = report.loyalty_section(four_weeks)
    # issued, redeemed, reversed, adjusted, outstanding today
    assert table(section, "points").rows == [[305, 750, 100, 30, 7100]]
    weekly = table(section, "points-weekly")
    assert column(weekly, "Points issued") == [105, 0, 200, 0]
    assert column(weekly, "Points redeemed") == [0, 0, 500, 250]

    rewards = table(section, "rewards")
    assert rewards.rows == [
        ["Free lawn care", 250, 2, 500],
        ["$10 off", 500, 1, 500],
        ["20% off (inactive)", 1000, 0, 0],
    ]
    assert rewards.total == ["All rewards", None, 3, 1000]

    tiers = table(section, "tiers")
    assert tiers.rows == [
        ["Bronze", 2, 500],
        ["Silver", 1, 1200],
        ["Gold", 1, 300],
        ["Platinum", 1, 5100],
    ]
    assert tiers.total == ["All customers", 5, 7100]

    upgrades = table(section, "tier-upgrades")
    assert column(upgrades, "To Silver") == [1, 0, 1, 0]
    assert column(upgrades, "To Gold") == [0, 0, 1, 0]
    assert column(upgrades, "To Platinum") == [0, 0, 0, 1]
    assert dict(section.figures)["Tier upgrades"] == "4"
    assert dict(section.figures)["Outstanding (liability)"] == "7,100"


def test_churn_buckets_per_week(churn_data, four_weeks):
    churn = table(report.customers_section(four_weeks), "churn")
    assert column(churn, "Week ending") == four_weeks.week_ends
    # May 13: C1, C6 (ahead), C7 (ahead), C10 active; C2, C5 at risk; C3 inactive.
    # May 20: C2 booked again; C1 cooling at 30 days; C7 cancelled, 61 days: at risk.
    # May 27: C5 passes 90 days. June 3: C4's first booking.
    assert column(churn, "Active (under 30 days)") == [4, 3, 3, 4]
    assert column(churn, "Cooling (30-59 days)") == [0, 1, 1, 1]
    assert column(churn, "At risk (60-89 days)") == [2, 2, 1, 1]
    assert column(churn, "Inactive (90+ days)") == [1, 1, 2, 2]


def test_churn_over_a_year_agrees_with_counting_each_week(churn_data):
    """52 weeks: the one-query running sum equals a per-week recount in Python."""
    from retention.models import Job

    period = Period.last(52, today=TODAY)
    churn = table(report.customers_section(period), "churn")
    jobs = list(
        Job.objects.values(
            "customer_id", "created_at", "scheduled_for", "cancelled_at", "completed_at"
        )
    )
    from django.utils import timezone

    for index, week_end in enumerate(period.week_ends):
        expected = {"active": 0, "cooling": 0, "at_risk": 0, "inactive": 0}
        for customer_id in {j["customer_id"] for j in jobs}:
            own = [
                j
                for j in jobs
                if j["customer_id"] == customer_id
                and timezone.localdate(j["created_at"]) <= week_end
            ]
            if not own:
                continue
            days = (week_end - max(timezone.localdate(j["created_at"]) for j in own)).days
            ahead = any(
                min(
                    d
                    for d in [
                        # Ahead through its day, as the churn view counts it.
                        j["scheduled_for"] + dt.timedelta(days=1),
                        j["cancelled_at"] and timezone.localdate(j["cancelled_at"]),
                        j["completed_at"] and timezone.localdate(j["completed_at"]),
                    ]
                    if d
                )
                > week_end
                for j in own
            )
            bucket = (
                "active"
                if days < 30 or ahead
                else "cooling"
                if days < 60
                else "at_risk"
                if days < 90
                else "inactive"
            )
            expected[bucket] += 1
        assert [row[1:] for row in churn.rows][index] == list(expected.values()), week_end


def test_job_runs(job_run_data, four_weeks):
    runs = table(report.jobs_section(four_weeks), "job-runs")
    rows = {row[0]: row for row in runs.rows}
    assert list(rows) == [
        "send_seasonal_reminders",
        "check_service_due",
        "check_inactive_customers",
        "schedule_plan_visits",
        "deliver_emails",
        "refresh_recommendations",
        "refresh_metrics",
        "rebuild_search_index",
    ]
    seasonal = rows["send_seasonal_reminders"]
    assert seasonal[1:3] == ["failed", dt.date(2026, 6, 1)]
    assert seasonal[5:] == [25, 20, 0, 5, "ResendError: rate limited", 3, 1]
    assert rows["check_service_due"][1] == "succeeded"
    assert rows["check_service_due"][5:] == [12, 10, 2, 0, "", 1, 0]
    assert rows["check_inactive_customers"][1] == "never run"
    assert rows["check_inactive_customers"][-2:] == [0, 0]


def test_a_failed_last_run_stands_out_on_the_page(job_run_data, staff_client):
    html = staff_client.get("/admin/metrics/?weeks=4").content.decode()
    assert 'class="status status-failed">failed</td>' in html
    assert 'class="status status-never-run">never run</td>' in html
    assert "<dt>Jobs whose last run failed</dt><dd>1</dd>" in html


def test_emails(email_data, four_weeks):
    section = report.jobs_section(four_weeks)
    emails = table(section, "emails")
    names = [c.name for c in emails.columns]
    rows = [dict(zip(names, row, strict=True)) for row in emails.rows + [emails.total]]
    # One column per delivery status the outbox has (here pending, sent, failed, suppressed).
    wanted = ["Template", "Kind", "Pending", "Sent", "Failed", "Suppressed (consent withdrawn)", "Total"]
    assert [[row[name] for name in wanted] for row in rows] == [
        ["seasonal_offer", "Marketing", 0, 3, 1, 1, 5],
        ["service_due", "Service reminder", 1, 2, 0, 0, 3],
        ["All emails", "", 1, 5, 1, 1, 8],
    ]
    assert all(row[name] == 0 for row in rows for name in names if name not in wanted)
    weekly = table(section, "emails-weekly")
    assert column(weekly, "Marketing") == [2, 0, 1, 0]
    assert column(weekly, "Service reminder") == [0, 1, 0, 1]


def test_every_table_on_the_page_exports(staff_client):
    html = staff_client.get("/admin/metrics/?weeks=52").content.decode()
    slugs = [t.slug for section in report.build_report(Period.last(52)) for t in section.tables]
    assert sorted(slugs) == sorted(report.TABLE_SECTIONS)
    for slug in slugs:
        assert f'href="/admin/metrics/{slug}.csv?weeks=52"' in html
        response = staff_client.get(f"/admin/metrics/{slug}.csv?weeks=52")
        assert response.status_code == 200, slug
        assert response.content.startswith(b"\xef\xbb\xbf"), slug
        assert len(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))) >= 1
    assert staff_client.get("/admin/metrics/nothing.csv").status_code == 404


def test_the_page_shows_the_figures_and_the_chosen_period(campaign_data, staff_client):
    html = staff_client.get("/admin/metrics/?weeks=4").content.decode()
    assert "Last 4 weeks: May 7, 2026 to Jun 3, 2026" in html
    assert '<a href="?weeks=4" class="period-choice" aria-current="page">' in html
    assert "<dt>Conversion</dt><dd>26.3%</dd>" in html
    assert '<td class="num">$132.00</td>' in html
    # An unknown period falls back to 12 weeks.
    assert "Last 12 weeks" in staff_client.get("/admin/metrics/?weeks=7").content.decode()

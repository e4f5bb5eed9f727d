"""The daily roll-up (metrics.rollup, refresh_metrics): the page read through it shows
exactly what counting every day from the records shows, whatever happened since the
nightly run: facts written today, past facts changed, a day rebuilt twice, a day
missing and caught up."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from campaigns.models import CampaignSend
from loyalty.models import LoyaltyAccount, PointsEntry
from metrics import report, rollup
from metrics.models import Change, DailyFigure, RemindedCustomer, RolledUpDay
from metrics.periods import Period
from metrics.selectors import reporting_queries
from outbox.models import OutboundEmail
from reminders.models import ServiceReminder
from retention.models import Customer, Job, JobRun
from tests.factories import CustomerFactory

from .conftest import ALL_DATA, TODAY, at, book

YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def all_data(request):
    for data in ALL_DATA:
        request.getfixturevalue(data)


def page(weeks: int) -> dict:
    """Every figure and every table row of the page (what the CSV exports write)."""
    period = Period.last(weeks, today=TODAY)
    return {
        section.slug: (section.figures, [(t.slug, t.csv_rows) for t in section.tables])
        for section in report.build_report(period)
    }


def counted_from_the_facts(weeks: int) -> dict:
    """The page with every day counted from the records (the roll-up set aside)."""
    with transaction.atomic():
        RolledUpDay.objects.all().delete()
        found = page(weeks)
        transaction.set_rollback(True)
    return found


def counted_from_the_roll_up(weeks: int) -> list[dt.date]:
    with reporting_queries():
        return rollup.figures(Period.last(weeks, today=TODAY)).counted_from_facts


@pytest.mark.parametrize("weeks", [4, 12, 52])
def test_the_rolled_up_page_equals_the_page_counted_from_the_records(all_data, weeks):
    before = page(weeks)
    result = rollup.catch_up(TODAY)
    assert result["rebuilt"] == rollup.KEEP_DAYS and not Change.objects.exists()
    assert counted_from_the_roll_up(weeks) == []  # every past day read from the roll-up
    assert DailyFigure.objects.filter(figure="churn", day=YESTERDAY).exists()
    assert page(weeks) == before == counted_from_the_facts(weeks)


def test_facts_of_today_and_changes_to_past_facts_show_at_once(all_data, lawn, provider):
    rollup.catch_up(TODAY)
    rolled_up = page(4)
    assert rolled_up == counted_from_the_facts(4)

    # Today: a reminder to a customer already reminded in the period, and to a new one.
    reminded = ServiceReminder.objects.filter(sent_at__gte=at(5, 27)).order_by("sent_at").first()
    ServiceReminder.objects.create(job=reminded.job, customer=reminded.customer, due_date=TODAY, sent_at=at(6, 3, 9))
    newcomer = CustomerFactory()
    job = book(newcomer, lawn, provider, booked_at=at(5, 1), status=Job.Status.COMPLETED)
    ServiceReminder.objects.create(job=job, customer=newcomer, due_date=TODAY, sent_at=at(6, 3, 9))
    # Today: a booking with a code sent on May 9 (a closed day), points and an email.
    send = CampaignSend.objects.filter(sent_at__gte=at(5, 9, 0), sent_at__lt=at(5, 10, 0), promo_code__job__isnull=True).first()
    book(send.customer, lawn, provider, booked_at=at(6, 3, 10), amount="45.00", promo_code=send.promo_code)
    PointsEntry.objects.create(account=LoyaltyAccount.objects.first(), points=70, type="earn", description="-", created_at=at(6, 3, 11))
    # Past facts changed: the booking that followed reminder 1 (May 20) and a booking
    # with a campaign code (May 22) cancelled; a May 30 email finally delivered.
    for job in Job.objects.filter(created_at__in=[at(5, 20, 11), at(5, 22)]):
        job.status, job.cancelled_at = Job.Status.CANCELLED, at(6, 3, 12)
        job.save()
    OutboundEmail.objects.filter(created_at=at(5, 30)).update(status="sent", sent_at=at(6, 3, 13))

    now = page(4)
    assert now == counted_from_the_facts(4)
    assert now != rolled_up
    reminders = dict(now["reminders"][1])["reminders"][0]
    assert reminders[:4] == [6 + 2, 3 - 1, 5 + 1, 2]  # sent, booked, customers, customers who booked (A still did)
    # The next night folds it all into the roll-up; the page stays the same.
    rollup.catch_up(TODAY)
    assert page(4) == now


def test_a_day_rebuilt_twice_holds_the_same_rows(all_data):
    days = [dt.date(2026, 5, 8), dt.date(2026, 5, 10)]

    def stored():
        return (
            set(DailyFigure.objects.filter(day__in=days).values_list("day", "figure", "key", "value")),
            set(RemindedCustomer.objects.filter(day__in=days).values_list("day", "customer_id", "booked")),
        )

    rollup.rebuild(days)
    first = stored()
    assert {"churn", "points", "upgrades", "seasonal_sent", "seasonal_used", "seasonal_revenue", "emails"} <= {
        figure for _day, figure, _key, _value in first[0]
    }
    assert len(first[1]) == 2  # May 10: customers A (booked within 14 days) and B (too late)
    rollup.rebuild(days)
    assert stored() == first
    assert RolledUpDay.objects.filter(day__in=days).count() == 2


def test_a_missing_day_is_counted_from_the_records_and_said_then_caught_up(all_data, staff_client):
    rollup.catch_up(TODAY)
    expected = counted_from_the_facts(12)
    missing = dt.date(2026, 5, 23)
    RolledUpDay.objects.filter(day=missing).delete()
    DailyFigure.objects.filter(day=missing).delete()  # as if never written

    assert counted_from_the_roll_up(12) == [missing]
    assert page(12) == expected
    html = staff_client.get("/admin/metrics/?weeks=12").content.decode()
    assert "1 of the period&#x27;s past days (May 23 to May 23) are not in the nightly roll-up yet" in html

    result = rollup.catch_up(TODAY)
    assert result["missing"] == 1 and result["rebuilt"] == 2  # that day and yesterday
    assert counted_from_the_roll_up(12) == []
    assert page(12) == expected
    assert "nightly roll-up" not in staff_client.get("/admin/metrics/?weeks=12").content.decode()


def test_a_day_rolled_up_under_other_churn_stages_is_recounted(all_data, settings):
    rollup.catch_up(TODAY)
    settings.WINBACK_INACTIVE_DAYS = 70
    assert len(counted_from_the_roll_up(4)) == 27  # every past day of the period
    assert page(4) == counted_from_the_facts(4)


def test_churn_is_counted_as_of_yesterday_and_a_past_change_recounts_it(churn_data, lawn, provider):
    rollup.catch_up(TODAY)
    four = Period.last(4, today=TODAY)
    customers = report.customers_section(four)
    assert "the last week as of Jun 2" in customers.note
    churned = dict(page(4)["customers"][1])["churn"]
    # A first booking today counts from tomorrow's snapshot on.
    book(CustomerFactory(), lawn, provider, booked_at=at(6, 3, 9))
    assert dict(page(4)["customers"][1])["churn"] == churned
    # Completing a past booking today changes no past day: the snapshots still serve.
    job = Job.objects.get(created_at=at(5, 18))
    job.status, job.completed_at, job.next_due_date = Job.Status.COMPLETED, at(6, 3, 9), TODAY
    job.save()
    with reporting_queries():
        assert rollup.stored_churn(four, rollup.figures(four)) is not None
    # A job moved to another customer changes the past: counted from the records again.
    job = Job.objects.get(created_at=at(5, 18))
    job.customer = Customer.objects.get(user__name="C3")
    job.save()
    with reporting_queries():
        assert rollup.stored_churn(four, rollup.figures(four)) is None
    assert page(4) == counted_from_the_facts(4)
    assert dict(page(4)["customers"][1])["churn"] != churned


def test_the_nightly_job_runs_through_the_job_runner(all_data):
    call_command("refresh_metrics", "--dry-run", stdout=StringIO(), stderr=StringIO())
    assert not RolledUpDay.objects.exists() and Change.objects.exists()  # a dry run changes nothing
    out = StringIO()
    call_command("refresh_metrics", stdout=out, stderr=StringIO())
    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    assert stats["job"] == "refresh_metrics" and stats["sent"] == rollup.KEEP_DAYS
    run = JobRun.objects.filter(name="refresh_metrics", dry_run=False).get()
    assert run.status == JobRun.Status.SUCCEEDED and not Change.objects.exists()
    # Run again: only yesterday (nothing missing, nothing changed).
    out = StringIO()
    call_command("refresh_metrics", stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue().strip().splitlines()[-1])["sent"] == 1

    # --date D rebuilds that one day exactly; today is not closed yet.
    DailyFigure.objects.filter(day=dt.date(2026, 5, 22)).update(value=Decimal(999))
    call_command("refresh_metrics", "--date", "2026-05-22", stdout=StringIO(), stderr=StringIO())
    assert not DailyFigure.objects.filter(day=dt.date(2026, 5, 22), value=999).exists()
    with pytest.raises(SystemExit):
        call_command("refresh_metrics", "--date", TODAY.isoformat(), stdout=StringIO(), stderr=StringIO())
    assert JobRun.objects.filter(name="refresh_metrics").order_by("-pk")[0].status == JobRun.Status.FAILED
    assert page(12) == counted_from_the_facts(12)


def test_the_page_runs_the_same_queries_with_the_roll_up(all_data, staff_client, django_assert_num_queries):
    from .test_queries import PAGE_QUERIES

    rollup.catch_up(TODAY)
    with django_assert_num_queries(PAGE_QUERIES):
        staff_client.get("/admin/metrics/?weeks=52")


def test_it_is_scheduled_nightly_after_midnight(settings):
    assert ("refresh_metrics", "15 7 * * *") in settings.SCHEDULED_JOBS

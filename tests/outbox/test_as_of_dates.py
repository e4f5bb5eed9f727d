"""PRODUCT.md "Time": a job run `--date D` behaves as the run of day D. The marketing cap
(shared by seasonal and win-back) and the win-back cooldown count by the as-of day each
email and send records, never the wall clock; "already sent this season" and "already
reminded" are keyed by the as-of season and due date. Runs dated ahead, catch-up runs
and the same day run twice all hold to that."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import call_command

from campaigns.models import CampaignSend
from outbox.consent import under_marketing_cap
from outbox.models import OutboundEmail
from reminders.models import ServiceReminder, WinbackSend
from tests.factories import CampaignFactory, CustomerFactory, completed_job

# Monday 4 January 2027, 10:00 UTC (05:00 in New York): the clock stays here; runs are
# --date'd around it.
NOW = dt.datetime(2027, 1, 4, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2027, 1, 4)


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def winter(service_types):
    """Covers December to February, so seasonal runs dated into February still find it."""
    return CampaignFactory(season="winter", start_month=12, end_month=2, promo_valid_days=30)


@pytest.fixture
def lapsed(customer, provider, lawn):
    """Last booked 120 days ago: a win-back target and a seasonal target alike."""
    completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=day(-120), booked_on=day(-120))
    return customer


def run(command: str, on: dt.date) -> dict:
    """The command as of `on`; a failed run (non-zero exit) fails the test."""
    out = io.StringIO()
    call_command(command, "--date", on.isoformat(), stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def seasonal(on):
    return run("send_seasonal_reminders", on)


def winback(on):
    return run("check_inactive_customers", on)


def marketing_emails(customer) -> list[dt.date]:
    return sorted(
        OutboundEmail.objects.filter(customer=customer, kind=OutboundEmail.Kind.MARKETING).values_list("as_of", flat=True)
    )


@pytest.mark.django_db
class TestMarketingCapSharedBySeasonalAndWinback:
    def test_seasonal_then_winback_dated_ahead_the_same_day_mails_once(self, winter, lapsed):
        assert seasonal(day(20))["sent"] == 1
        stats = winback(day(20))
        assert stats["sent"] == 0 and stats["failed"] == 0
        assert stats["skippedByReason"]["marketingCap"] == 1
        assert marketing_emails(lapsed) == [day(20)]

    def test_winback_then_seasonal_dated_ahead_mails_once_until_the_cap_ends(self, settings, winter, lapsed):
        settings.WINBACK_CODE_VALID_DAYS = 1  # the win-back code is over by then: only the cap stops seasonal
        assert winback(day(20))["sent"] == 1
        stats = seasonal(day(23))
        assert stats["sent"] == 0 and stats["skippedByReason"]["marketingCap"] == 1
        assert seasonal(day(27))["sent"] == 1  # seven as-of days after the win-back
        assert marketing_emails(lapsed) == [day(20), day(27)]

    def test_a_catch_up_seasonal_run_for_yesterday_after_todays_winback_sends_nothing(self, winter, lapsed):
        assert winback(TODAY)["sent"] == 1
        stats = seasonal(day(-1))
        assert stats["sent"] == 0 and stats["failed"] == 0
        assert marketing_emails(lapsed) == [TODAY]

    def test_a_catch_up_winback_run_for_yesterday_after_todays_seasonal_is_capped(self, winter, lapsed):
        assert seasonal(TODAY)["sent"] == 1
        stats = winback(day(-1))
        assert stats["sent"] == 0 and stats["skippedByReason"]["marketingCap"] == 1

    def test_the_cap_counts_from_the_runs_own_day_on_both_sides(self, winter, lapsed):
        """A marketing email as of day 20 caps sends as of days 14 to 26, whatever the
        wall clock says: a run for day 10 (catching up) or day 27 would have mailed."""
        assert winback(day(20))["sent"] == 1
        capped = [n for n in range(5, 35) if not under_marketing_cap(lapsed, as_of=day(n))]
        assert capped == list(range(14, 27))


@pytest.mark.django_db
class TestWinbackCooldown:
    def test_the_same_day_150_days_ahead_run_twice_sends_once_and_the_second_run_succeeds(self, lapsed, lawn, provider):
        first = winback(day(150))
        newly_quiet = CustomerFactory()
        completed_job(customer=newly_quiet, service_type=lawn, provider=provider, completed_on=day(30), booked_on=day(30))
        second = winback(day(150))

        assert first["sent"] == 1
        assert second["failed"] == 0 and second["sent"] == 1  # the customer who became eligible
        assert second["skippedByReason"]["cooldown"] == 1
        assert WinbackSend.objects.filter(customer=lapsed).count() == 1
        assert list(WinbackSend.objects.filter(customer=lapsed).values_list("sent_on", flat=True)) == [day(150)]

    def test_a_catch_up_run_for_yesterday_after_todays_run_sends_nothing(self, lapsed):
        assert winback(TODAY)["sent"] == 1
        stats = winback(day(-1))
        assert stats["sent"] == 0 and stats["failed"] == 0 and stats["skippedByReason"]["cooldown"] == 1

    def test_runs_dated_ahead_count_the_cooldown_from_their_own_days(self, settings, lapsed):
        settings.WINBACK_COOLDOWN_DAYS = 90
        assert winback(day(100))["sent"] == 1
        assert winback(day(189))["skippedByReason"]["cooldown"] == 1
        assert winback(day(190))["sent"] == 1
        # Back to today: the sends dated 100 and 190 days ahead are 90 or more days away.
        assert winback(TODAY)["sent"] == 1
        assert sorted(WinbackSend.objects.values_list("sent_on", flat=True)) == [TODAY, day(100), day(190)]


@pytest.mark.django_db
def test_seasonal_the_same_day_twice_sends_nothing_the_second_time(winter, lapsed):
    assert seasonal(day(20))["sent"] == 1
    again = seasonal(day(20))
    assert again["sent"] == 0 and again["failed"] == 0
    assert CampaignSend.objects.filter(customer=lapsed).count() == 1


@pytest.mark.django_db
def test_service_due_the_same_day_twice_reminds_once(customer, lawn, provider):
    completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=day(40), booked_on=day(40))
    due = day(40 + lawn.frequency_days)
    first = run("check_service_due", due)
    again = run("check_service_due", due)
    assert first["sent"] == 1
    assert again["sent"] == 0 and again["failed"] == 0 and again["skippedByReason"]["alreadyReminded"] == 1
    assert ServiceReminder.objects.filter(customer=customer).count() == 1

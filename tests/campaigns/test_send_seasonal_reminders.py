"""The weekly seasonal job: who is eligible, what each gets, and that it is safe to re-run."""

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.urls import set_script_prefix
from django.utils import timezone

from campaigns.models import SEASONAL_NOTICE, SEASONAL_SOURCE, CampaignSend
from campaigns.seasonal import EMAIL_TEMPLATE, queue_seasonal_offers, select_customers, start_run
from loyalty.models import VOUCHER_SOURCE
from outbox.compose import build_email
from outbox.models import OutboundEmail
from outbox.offers import offer_values, write_offers
from retention.clock import start_of_business_day
from retention.links import absolute_url
from retention.models import Job, Notification, PromoCode
from retention.scheduling import JobContext
from tests.factories import (
    CampaignFactory,
    CampaignSendFactory,
    CustomerFactory,
    JobFactory,
    PromoCodeFactory,
)

# Monday 4 January 2027, 10:00 UTC (05:00 in New York): the scheduled run.
NOW = dt.datetime(2027, 1, 4, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2027, 1, 4)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def winter(service_types):
    return CampaignFactory(
        season="winter",
        title="Winter Comfort",
        discount_percent=20,
        start_month=12,
        end_month=2,
        promo_valid_days=30,
        service_types=[service_types["hvac"]],
    )


def booked(customer, provider, service_type, *, days_ago, status=Job.Status.COMPLETED, scheduled_for=None):
    """A job the customer booked `days_ago` business days before TODAY."""
    day = TODAY - dt.timedelta(days=days_ago)
    at = start_of_business_day(day) + dt.timedelta(hours=12)
    fields = {}
    if status == Job.Status.COMPLETED:
        fields = {"completed_at": at, "next_due_date": day + dt.timedelta(days=service_type.frequency_days)}
    return JobFactory(
        customer=customer,
        provider=provider,
        service_type=service_type,
        created_at=at,
        scheduled_for=scheduled_for or day,
        status=status,
        **fields,
    )


@pytest.fixture
def lapsed(customer, provider, lawn):
    """The customer in the fixture, last booked 45 days ago: eligible unless a test changes that."""
    booked(customer, provider, lawn, days_ago=45)
    return customer


def run(*args) -> dict:
    out, err = StringIO(), StringIO()
    call_command("send_seasonal_reminders", "--date", TODAY.isoformat(), *args, stdout=out, stderr=err)
    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    stats["_stderr"] = err.getvalue()
    return stats


def was_sent(customer) -> bool:
    return CampaignSend.objects.filter(customer=customer).exists()


# --- Eligibility edges, one each -------------------------------------------------------


def test_last_booking_30_days_ago_is_eligible(winter, customer, provider, lawn):
    booked(customer, provider, lawn, days_ago=30)
    stats = run()
    assert stats["eligible"] == 1 and stats["sent"] == 1
    assert was_sent(customer)


def test_last_booking_29_days_ago_is_not(winter, customer, provider, lawn):
    booked(customer, provider, lawn, days_ago=45)
    booked(customer, provider, lawn, days_ago=29)
    stats = run()
    assert stats["sent"] == 0
    assert stats["skippedByReason"]["bookedRecently"] == 1
    assert not was_sent(customer)


def test_a_job_scheduled_ahead_makes_the_customer_ineligible(winter, lapsed, provider, lawn):
    booked(lapsed, provider, lawn, days_ago=40, status=Job.Status.SCHEDULED, scheduled_for=TODAY + dt.timedelta(days=3))
    stats = run()
    assert stats["sent"] == 0
    assert stats["skippedByReason"]["scheduledAhead"] == 1


def test_an_active_promo_code_makes_the_customer_ineligible(winter, lapsed):
    PromoCodeFactory(customer=lapsed, source=VOUCHER_SOURCE, expires_at=NOW + dt.timedelta(days=2))
    stats = run()
    assert stats["sent"] == 0
    assert stats["skippedByReason"]["activePromoCode"] == 1


def test_an_expired_promo_code_does_not(winter, lapsed):
    PromoCodeFactory(customer=lapsed, expires_at=NOW - dt.timedelta(minutes=1))
    assert run()["sent"] == 1
    assert was_sent(lapsed)


def test_a_used_promo_code_does_not(winter, lapsed):
    PromoCodeFactory(customer=lapsed, used_at=NOW - dt.timedelta(days=40))
    assert run()["sent"] == 1


def test_opted_out_of_marketing_is_not_sent(winter, lapsed):
    lapsed.marketing_opt_in = False
    lapsed.save()
    stats = run()
    assert stats["sent"] == 0
    assert stats["skippedByReason"]["optedOut"] == 1
    assert not OutboundEmail.objects.exists()


def winback_email(customer, *, status, days_ago):
    """A win-back email (marketing) to the customer, queued as of `days_ago` days before TODAY."""
    OutboundEmail.objects.create(
        idempotency_key="winback/1", template="winback", kind=OutboundEmail.Kind.MARKETING, customer=customer,
        to_email=customer.email, subject="We miss you", text_body=".", html_body=".",
        status=status, as_of=TODAY - dt.timedelta(days=days_ago),
    )


def test_a_marketing_email_3_days_ago_caps_the_customer(winter, lapsed):
    winback_email(lapsed, status=OutboundEmail.Status.SENT, days_ago=3)
    stats = run()
    assert stats["sent"] == 0
    assert stats["skippedByReason"]["marketingCap"] == 1


def test_a_marketing_email_being_sent_caps_the_customer(winter, lapsed):
    # Claimed by a delivery run (status sending) but not marked sent yet: it still counts.
    winback_email(lapsed, status=OutboundEmail.Status.SENDING, days_ago=1)
    stats = run()
    assert stats["sent"] == 0
    assert stats["skippedByReason"]["marketingCap"] == 1


def test_a_marketing_email_8_days_ago_does_not_cap(winter, lapsed):
    winback_email(lapsed, status=OutboundEmail.Status.SENT, days_ago=8)
    assert run()["sent"] == 1


def test_a_service_reminder_3_days_ago_does_not_cap(winter, lapsed):
    OutboundEmail.objects.create(
        idempotency_key="reminder/1", template="service_due", kind=OutboundEmail.Kind.REMINDER, customer=lapsed,
        to_email=lapsed.email, subject="Due", text_body=".", html_body=".", created_at=NOW - dt.timedelta(days=3),
    )
    assert run()["sent"] == 1


def test_already_sent_this_campaign_this_season_is_not_sent_again(winter, lapsed):
    CampaignSendFactory(
        campaign=winter, customer=lapsed, season_year=2026,
        promo_code__used_at=NOW - dt.timedelta(days=20),  # used, so only the send record stops it
    )
    stats = run()
    assert stats["sent"] == 0
    assert stats["skippedByReason"]["alreadySent"] == 1
    assert CampaignSend.objects.count() == 1


def test_sent_last_years_winter_is_eligible_again(winter, lapsed):
    CampaignSendFactory(
        campaign=winter, customer=lapsed, season_year=2025, promo_code__expires_at=NOW - dt.timedelta(days=300)
    )
    assert run()["sent"] == 1
    assert CampaignSend.objects.filter(customer=lapsed, season_year=2026).exists()


def test_a_customer_who_never_booked_is_not_sent(winter, customer):
    stats = run()
    assert stats["sent"] == 0
    assert stats["skippedByReason"]["neverBooked"] == 1


def test_no_campaign_for_the_month_sends_nothing(service_types, lapsed):
    CampaignFactory(season="spring", start_month=3, end_month=5)
    stats = run()
    assert stats["campaign"] is None
    assert stats["sent"] == 0
    assert not PromoCode.objects.exists()


# --- What a customer gets ----------------------------------------------------------------


def test_an_eligible_customer_gets_a_code_a_send_a_notification_and_the_email(winter, lapsed, service_types):
    stats = run()
    assert stats["sent"] == 1 and stats["codesCreated"] == 1 and stats["failed"] == 0
    assert stats["campaign"]["title"] == "Winter Comfort" and stats["seasonYear"] == 2026

    send = CampaignSend.objects.select_related("promo_code").get(customer=lapsed)
    code = send.promo_code
    assert (send.campaign, send.season_year) == (winter, 2026)
    assert code.source == SEASONAL_SOURCE
    assert (code.discount_type, code.discount_value) == ("percent", 20)
    assert list(code.service_types.all()) == [service_types["hvac"]]
    assert code.used_at is None
    # Valid through February 3 (30 days), to the end of that business day.
    assert timezone.localdate(code.expires_at) == dt.date(2027, 2, 3)
    assert code.expires_at < start_of_business_day(dt.date(2027, 2, 4)) <= code.expires_at + dt.timedelta(seconds=1)

    notification = Notification.objects.get(customer=lapsed)
    assert notification.kind == SEASONAL_NOTICE
    assert code.code in notification.message
    assert notification.action_url == f"/customer-portal/book/?service=hvac&code={code.code}"

    email = OutboundEmail.objects.get(customer=lapsed)
    assert email.kind == OutboundEmail.Kind.MARKETING
    assert email.idempotency_key == f"seasonal/{send.pk}"
    assert email.subject == "❄️ Winter Comfort: 20% off your next service"
    for body in (email.text_body, email.html_body):
        assert code.code in body
        assert "20%" in body
        assert "February 3, 2027" in body
        assert "Schedule Services" in body
        assert f"/customer-portal/book/?service=hvac&amp;code={code.code}" in body or (
            f"/customer-portal/book/?service=hvac&code={code.code}" in body
        )
        assert "/email/unsubscribe/" in body
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.headers["List-Unsubscribe"].startswith("<http")


@pytest.mark.parametrize(
    "name",
    ['Zoë <b>&"\'Ann\'"</b> Smith', "Cher", "", "  Dr.\tJekyll  ", "   ", "A&amp;B\x1eC"],
    ids=["markup", "one word", "no name", "whitespace", "only whitespace", "entity and separator"],
)
def test_the_email_is_exactly_what_rendering_it_for_the_customer_gives(winter, provider, lawn, name):
    """The job renders the email once and fills in each customer's values in SQL; the
    result must match build_email rendering the templates for that customer."""
    customer = CustomerFactory(user__name=name, user__email="o'neil+<x>@example.com")
    booked(customer, provider, lawn, days_ago=45)
    assert run()["sent"] == 1

    email = OutboundEmail.objects.get(customer=customer)
    code = PromoCode.objects.get(customer=customer).code
    seasonal_run = start_run(as_of=TODAY)
    expected = build_email(
        template=EMAIL_TEMPLATE,
        customer=customer,
        kind=OutboundEmail.Kind.MARKETING,
        idempotency_key=email.idempotency_key,
        context=seasonal_run.email_context(code=code, book_url=absolute_url(seasonal_run.booking_path(code))),
    )
    assert (email.to_email, email.subject, email.headers) == (expected.to_email, expected.subject, expected.headers)
    assert email.text_body == expected.text_body
    assert email.html_body == expected.html_body


def test_a_customer_who_books_after_the_selection_is_left_out_of_their_batch(winter, lapsed, provider, lawn):
    seasonal_run = start_run(as_of=TODAY)
    eligible, _ = select_customers(seasonal_run)
    assert [recipient.customer_id for recipient in eligible] == [lapsed.pk]

    booked(lapsed, provider, lawn, days_ago=0, status=Job.Status.SCHEDULED, scheduled_for=TODAY + dt.timedelta(days=5))
    assert write_offers(seasonal_run.offer, offer_values(seasonal_run.offer, eligible)).sent == 0
    assert not was_sent(lapsed)
    assert not PromoCode.objects.exists() and not Notification.objects.exists() and not OutboundEmail.objects.exists()


def test_a_batch_that_fails_is_rolled_back_whole_and_the_next_batches_go_on(winter, provider, lawn, settings):
    settings.JOB_BATCH_SIZE = 2
    customers = [CustomerFactory(user__email=f"c{i}@example.com") for i in range(4)]
    for customer in customers:
        booked(customer, provider, lawn, days_ago=45)
    # A real failure inside the first batch's statement: the database refuses one email.
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION refuse_c1() RETURNS trigger AS $$
            BEGIN
                IF NEW.to_email = 'c1@example.com' THEN RAISE EXCEPTION 'refused'; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_c1 BEFORE INSERT ON retention_outboundemail
                FOR EACH ROW EXECUTE FUNCTION refuse_c1();
        """)

    out = StringIO()
    with pytest.raises(SystemExit) as exit_status:  # a failed customer fails the run
        call_command("send_seasonal_reminders", "--date", TODAY.isoformat(), stdout=out, stderr=StringIO())
    stats = json.loads(out.getvalue().strip().splitlines()[-1])

    assert exit_status.value.code == 1
    assert (stats["batches"], stats["failed"], stats["sent"]) == (2, 2, 2)
    sent = {send.customer for send in CampaignSend.objects.all()}
    assert sent == set(customers[2:])
    # Nothing of the failed batch remains: no code, no notification, no email.
    for customer in customers[:2]:
        assert not PromoCode.objects.filter(customer=customer).exists()
        assert not Notification.objects.filter(customer=customer).exists()
        assert not OutboundEmail.objects.filter(customer=customer).exists()


def test_links_keep_the_url_prefix_though_values_are_made_on_another_thread(winter, lapsed):
    """Under a script prefix (a site served below /retention/, or the cron API's
    request), the unsubscribe link, made per customer on the worker thread, keeps it."""
    set_script_prefix("/retention/")
    try:
        ctx = JobContext(name="send_seasonal_reminders", as_of=TODAY, dry_run=False, progress_stream=StringIO())
        queue_seasonal_offers(ctx)
    finally:
        set_script_prefix("/")
    email = OutboundEmail.objects.get(customer=lapsed)
    assert "/retention/email/unsubscribe/" in email.headers["List-Unsubscribe"]
    assert "/retention/customer-portal/book/?service=hvac&amp;code=" in email.html_body


def test_the_job_delivers_what_it_queued(winter, lapsed, mailoutbox):
    stats = run()
    assert stats["delivery"]["sent"] == 1
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT


def test_codes_differ_per_customer(winter, provider, lawn):
    for _ in range(5):
        booked(CustomerFactory(), provider, lawn, days_ago=60)
    assert run()["sent"] == 5
    assert PromoCode.objects.values("code").distinct().count() == 5


# --- Re-runs and dry runs ----------------------------------------------------------------


def test_running_again_the_same_day_sends_nothing_new(winter, lapsed, provider, lawn):
    booked(CustomerFactory(), provider, lawn, days_ago=31)
    first = run()
    second = run()
    assert first["sent"] == 2
    assert second["sent"] == 0 and second["eligible"] == 0
    # The new codes themselves make the customers ineligible first; the send record backs it up.
    assert second["skippedByReason"]["activePromoCode"] == 2
    assert (PromoCode.objects.count(), CampaignSend.objects.count(), OutboundEmail.objects.count()) == (2, 2, 2)
    assert Notification.objects.count() == 2


def test_a_dry_run_writes_nothing_and_sends_nothing(winter, lapsed, mailoutbox):
    stats = run("--dry-run")
    assert stats["dryRun"] is True
    assert stats["eligible"] == 1 and stats["sent"] == 0
    assert f"would send {lapsed.email}: 20% off" in stats["_stderr"]
    assert not PromoCode.objects.exists()
    assert not CampaignSend.objects.exists()
    assert not Notification.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert mailoutbox == []


def test_stats_count_every_customer_once(winter, provider, lawn):
    booked(CustomerFactory(), provider, lawn, days_ago=60)
    booked(CustomerFactory(), provider, lawn, days_ago=3)
    CustomerFactory(marketing_opt_in=False)
    stats = run()
    assert stats["eligible"] == 1
    assert stats["skipped"] == 2
    assert stats["skippedByReason"] == {
        "neverBooked": 1, "bookedRecently": 1, "scheduledAhead": 0, "activePromoCode": 0,
        "optedOut": 0, "marketingCap": 0, "alreadySent": 0,
    }


def test_running_again_later_the_same_week_sends_nothing_new(winter, lapsed):
    assert run()["sent"] == 1
    out = StringIO()
    call_command("send_seasonal_reminders", "--date", "2027-01-07", stdout=out, stderr=StringIO())
    assert json.loads(out.getvalue().strip().splitlines()[-1])["sent"] == 0
    assert CampaignSend.objects.count() == 1 and OutboundEmail.objects.count() == 1


def test_a_used_code_does_not_bring_a_second_send_in_the_same_season(winter, lapsed):
    assert run()["sent"] == 1
    PromoCode.objects.update(used_at=NOW)
    out = StringIO()
    call_command("send_seasonal_reminders", "--date", "2027-02-08", stdout=out, stderr=StringIO())
    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    assert stats["sent"] == 0 and stats["skippedByReason"]["alreadySent"] == 1

"""check_inactive_customers: who is won back, the shared marketing cap, cooldown, and
that a booking ends win-back."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from outbox.compose import build_email
from outbox.consent import Kind, under_marketing_cap
from outbox.models import OutboundEmail
from outbox.offers import offer_values, write_offers
from reminders.models import WINBACK_NOTICE, WINBACK_SOURCE, WinbackSend
from reminders.winback import (
    WinbackRun,
    check_inactive_customers,
    winback_targets,
)
from retention.links import booking_url
from retention.models import Notification, PromoCode
from retention.scheduling import JobContext
from tests.factories import CustomerFactory, PromoCodeFactory, booked_job, completed_job

# Tests travel to noon (UTC) on this day and run as of it.
TODAY = dt.date(2026, 6, 15)


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def at_run_time(on: dt.date = TODAY):
    """The clock at 16:00 UTC on `on`, stopped: when the tests' runs happen."""
    return time_machine.travel(dt.datetime.combine(on, dt.time(16), tzinfo=dt.UTC), tick=False)


def run(*args, on: dt.date = TODAY) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with at_run_time(on):
        call_command("check_inactive_customers", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def last_booked(customer, provider, lawn):
    """last_booked(n): the customer's last booking was n days before TODAY (a job done then)."""

    def make(n, *, who=None):
        day = days(-n)
        return completed_job(customer=who or customer, service_type=lawn, provider=provider, completed_on=day, booked_on=day)

    return make


def winbacks(customer) -> int:
    return WinbackSend.objects.filter(customer=customer).count()


@pytest.mark.django_db
class TestWhoIsWonBack:
    def test_ninety_days_is_won_back_eighty_nine_is_not(self, last_booked, customer):
        last_booked(90)
        recent = CustomerFactory()
        last_booked(89, who=recent)
        stats = run()
        assert winbacks(customer) == 1
        assert winbacks(recent) == 0
        assert stats["eligible"] == 1 and stats["sent"] == 1 and stats["inactive"] == 1

    def test_the_last_booking_counts_not_the_first(self, last_booked, customer):
        last_booked(200)
        last_booked(30)
        assert run()["inactive"] == 0
        assert winbacks(customer) == 0

    def test_never_booked_is_not_a_winback(self, customer):
        assert run()["inactive"] == 0

    def test_something_scheduled_ahead_is_not_won_back(self, last_booked, customer, provider, lawn):
        last_booked(120)
        # Booked long ago for a date still ahead: the last booking is old, but they are coming.
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-100), scheduled_for=days(3))
        stats = run()
        assert winbacks(customer) == 0
        assert stats["skippedByReason"]["scheduledAhead"] == 1

    def test_opted_out_is_not_won_back(self, last_booked, customer):
        customer.marketing_opt_in = False
        customer.save()
        last_booked(120)
        stats = run()
        assert winbacks(customer) == 0
        assert OutboundEmail.objects.count() == 0 and Notification.objects.count() == 0
        assert stats["skippedByReason"]["optedOut"] == 1


    def test_deactivated_account_is_not_won_back(self, last_booked, customer):
        customer.user.is_active = False
        customer.user.save()
        last_booked(120)
        active = CustomerFactory()
        last_booked(120, who=active)
        stats = run()
        assert winbacks(customer) == 0 and winbacks(active) == 1
        assert not OutboundEmail.objects.filter(customer=customer).exists()
        assert not Notification.objects.filter(customer=customer).exists()
        assert stats["eligible"] == 1 and stats["inactive"] == 1  # not a candidate at all

@pytest.mark.django_db
class TestWhatAWinbackIs:
    def test_code_email_notification_and_record(self, settings, last_booked, customer):
        settings.WINBACK_DISCOUNT_PERCENT = 15
        last_booked(100)
        run()
        send = WinbackSend.objects.get(customer=customer)
        promo = send.promo_code
        assert promo.customer == customer and promo.source == WINBACK_SOURCE
        assert promo.discount_type == PromoCode.DiscountType.PERCENT and promo.discount_value == Decimal("15")
        assert promo.used_at is None
        # Valid through the end of the business day (New York) 30 days on: July 15.
        assert promo.expires_at == dt.datetime(2026, 7, 16, 3, 59, 59, 999999, tzinfo=dt.UTC)
        assert not promo.service_types.exists()  # any service
        email = OutboundEmail.objects.get(customer=customer)
        assert email.kind == Kind.MARKETING and email.template == "winback"
        assert email.idempotency_key == f"winback/{send.pk}"
        assert promo.code in email.text_body and promo.code in email.html_body
        assert "15% off" in email.subject
        assert "List-Unsubscribe" in email.headers and "List-Unsubscribe-Post" in email.headers
        assert "/email/unsubscribe/" in email.html_body
        note = Notification.objects.get(customer=customer)
        assert note.kind == WINBACK_NOTICE and promo.code in note.message

    def test_under_date_the_code_expires_at_the_end_of_as_of_plus_30_business_days(self, last_booked, customer):
        last_booked(100)
        run("--date", days(10).isoformat())  # as of June 25, run on June 15
        promo = WinbackSend.objects.get(customer=customer).promo_code
        # The end of July 25 in New York (EDT, UTC-4), not the real now + 30 days.
        assert promo.expires_at == dt.datetime(2026, 7, 26, 3, 59, 59, 999999, tzinfo=dt.UTC)
        assert timezone.localtime(promo.expires_at).date() == dt.date(2026, 7, 25)
        assert "July 25, 2026" in OutboundEmail.objects.get(customer=customer).text_body
        assert "July 25" in Notification.objects.get(customer=customer).message

    def test_delivered_after_the_writes(self, last_booked, customer):
        last_booked(100)
        stats = run()
        assert stats["delivery"]["sent"] == 1
        assert [m.to for m in mail.outbox] == [[customer.email]]

    @pytest.mark.parametrize(
        "name",
        ['Zoë <b>&"\'Ann\'"</b> Smith', "Cher", "", "  Dr.\tJekyll  ", "   ", "A&amp;B\x1eC"],
        ids=["markup", "one word", "no name", "whitespace", "only whitespace", "entity and separator"],
    )
    def test_the_email_is_exactly_what_rendering_it_for_the_customer_gives(self, settings, provider, lawn, name):
        """The job renders the email once and fills in each customer's values in SQL; the
        result must match build_email rendering the templates for that customer, as the
        job did before it was set-based."""
        customer = CustomerFactory(user__name=name, user__email="o'neil+<x>@example.com")
        day = days(-100)
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=day, booked_on=day)
        assert run()["sent"] == 1

        email = OutboundEmail.objects.get(customer=customer)
        promo = WinbackSend.objects.get(customer=customer).promo_code
        with at_run_time():  # the unsubscribe link's signature is timestamped
            expected = build_email(
                template="winback",
                customer=customer,
                kind=Kind.MARKETING,
                idempotency_key=email.idempotency_key,
                context={
                    "promo": promo,
                    "expires_on": TODAY + dt.timedelta(days=settings.WINBACK_CODE_VALID_DAYS),
                    "book_url": booking_url(code=promo.code, absolute=True),
                },
            )
        assert (email.to_email, email.subject, email.headers) == (expected.to_email, expected.subject, expected.headers)
        assert email.text_body == expected.text_body
        assert email.html_body == expected.html_body

    def test_a_customer_who_books_after_the_selection_is_left_out_of_their_batch(
        self, last_booked, customer, other_customer, provider, lawn
    ):
        last_booked(100)
        last_booked(100, who=other_customer)
        with at_run_time():
            targets = list(
                winback_targets(TODAY).order_by("pk").values_list("pk", "user__email", "user__name")
            )
            assert [pk for pk, _email, _name in targets] == [customer.pk, other_customer.pk]

            booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=TODAY, scheduled_for=days(5))
            winback_run = WinbackRun(as_of=TODAY)
            assert write_offers(winback_run.offer, offer_values(winback_run.offer, targets)).sent == 1
        assert winbacks(customer) == 0 and winbacks(other_customer) == 1
        assert not PromoCode.objects.filter(customer=customer).exists()
        assert not Notification.objects.filter(customer=customer).exists()
        assert not OutboundEmail.objects.filter(customer=customer).exists()
        assert OutboundEmail.objects.filter(customer=other_customer).count() == 1

    def test_the_notification_says_what_the_job_always_said(self, settings, last_booked, customer):
        settings.WINBACK_DISCOUNT_PERCENT = 15
        last_booked(100)
        run()
        code = WinbackSend.objects.get(customer=customer).promo_code.code
        note = Notification.objects.get(customer=customer)
        assert note.title == "We miss you: 15% off your next service"
        assert note.message == f"Use code {code} by July 15."
        assert note.action_url == f"/customer-portal/book/?code={code}"

    def test_dry_run_writes_nothing(self, last_booked):
        last_booked(100)
        stats = run("--dry-run")
        assert stats["eligible"] == 1 and stats["sent"] == 0
        assert WinbackSend.objects.count() == 0 and PromoCode.objects.count() == 0
        assert OutboundEmail.objects.count() == 0 and Notification.objects.count() == 0


@pytest.mark.django_db
class TestCooldownAndCap:
    def test_cooldown_ninety_days(self, settings, last_booked, customer):
        settings.MARKETING_EMAIL_CAP_DAYS = 7
        last_booked(200)
        assert run()["sent"] == 1
        second = run(on=days(89))
        assert second["sent"] == 0 and second["skippedByReason"]["cooldown"] == 1
        assert run(on=days(91))["sent"] == 1
        assert winbacks(customer) == 2

    def test_rerun_same_day_sends_nothing_new(self, last_booked, customer):
        last_booked(100)
        run()
        assert run()["sent"] == 0
        assert winbacks(customer) == 1 and OutboundEmail.objects.count() == 1

    def test_a_seasonal_email_in_the_last_seven_days_caps_winback(self, last_booked, customer):
        last_booked(100)
        # What the seasonal job leaves in the outbox: a marketing email, as of three days ago.
        OutboundEmail.objects.create(
            idempotency_key="seasonal/test-1", template="seasonal", kind=Kind.MARKETING, customer=customer,
            to_email=customer.email, subject="Spring offer", text_body="t", html_body="h",
            status=OutboundEmail.Status.SENT,
            as_of=days(-3),
        )
        stats = run()
        assert winbacks(customer) == 0
        assert stats["skippedByReason"]["marketingCap"] == 1
        # Eight days after the seasonal email the cap no longer applies.
        assert run(on=days(5))["sent"] == 1

    def test_a_marketing_email_being_sent_caps_winback(self, last_booked, customer):
        last_booked(100)
        # Claimed by a delivery run (status sending) but not marked sent yet: it still counts.
        OutboundEmail.objects.create(
            idempotency_key="seasonal/sending", template="seasonal", kind=Kind.MARKETING, customer=customer,
            to_email=customer.email, subject="s", text_body="t", html_body="h", status=OutboundEmail.Status.SENDING,
            as_of=days(-1),
        )
        stats = run()
        assert winbacks(customer) == 0
        assert stats["skippedByReason"]["marketingCap"] == 1

    def test_a_failed_marketing_email_does_not_count_against_the_cap(self, last_booked, customer):
        last_booked(100)
        OutboundEmail.objects.create(
            idempotency_key="seasonal/failed", template="seasonal", kind=Kind.MARKETING, customer=customer,
            to_email=customer.email, subject="s", text_body="t", html_body="h", status=OutboundEmail.Status.FAILED,
            as_of=days(-1),
        )
        assert run()["sent"] == 1

    def test_winback_counts_against_the_cap_seasonal_email_checks(self, last_booked, customer):
        last_booked(100)
        run()
        with time_machine.travel(dt.datetime.combine(days(3), dt.time(16), tzinfo=dt.UTC), tick=False):
            assert not under_marketing_cap(customer)
        with time_machine.travel(dt.datetime.combine(days(8), dt.time(16), tzinfo=dt.UTC), tick=False):
            assert under_marketing_cap(customer)


@pytest.mark.django_db
class TestOncePerCustomerPerDay:
    """The database, not only the cooldown query, stops a second win-back the same day."""

    def test_a_second_send_to_a_customer_on_one_day_fails_at_the_database(self, customer):
        WinbackSend.objects.create(customer=customer, promo_code=PromoCodeFactory(customer=customer), sent_on=TODAY)
        with pytest.raises(IntegrityError), transaction.atomic():
            WinbackSend.objects.create(customer=customer, promo_code=PromoCodeFactory(customer=customer), sent_on=TODAY)
        WinbackSend.objects.create(customer=customer, promo_code=PromoCodeFactory(customer=customer), sent_on=days(1))
        assert winbacks(customer) == 2

    def test_the_job_stamps_its_as_of_date(self, last_booked, customer):
        last_booked(100)
        run("--date", days(2).isoformat())
        assert WinbackSend.objects.get(customer=customer).sent_on == days(2)

    def test_without_the_cooldown_a_same_day_rerun_fails_instead_of_sending_twice(
        self, settings, last_booked, customer
    ):
        settings.WINBACK_COOLDOWN_DAYS = 0  # take the query's guard away: the constraint is left
        settings.MARKETING_EMAIL_CAP_DAYS = 0
        last_booked(100)
        ctx, again = (
            JobContext(name="check_inactive_customers", as_of=TODAY, dry_run=False, progress_stream=io.StringIO())
            for _ in range(2)
        )
        with time_machine.travel(dt.datetime.combine(TODAY, dt.time(16), tzinfo=dt.UTC)):
            check_inactive_customers(ctx)
            check_inactive_customers(again)
        assert ctx.stats["sent"] == 1
        assert again.stats["eligible"] == 1 and again.stats["sent"] == 0 and again.stats["failed"] == 1
        assert "winback_once_per_customer_day" in again.stats["errors"][0]
        assert winbacks(customer) == 1 and OutboundEmail.objects.count() == 1

@pytest.mark.django_db
def test_a_booking_after_a_winback_stops_the_next_one(last_booked, customer, other_customer, provider, lawn):
    last_booked(100)
    last_booked(100, who=other_customer)
    run()
    # The customer comes back 10 days later and books; the other stays quiet.
    booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(10), scheduled_for=days(12))
    assert run(on=days(11))["inactive"] == 1  # only the other, and they are in cooldown
    # 95 days on, the cooldown is over: the quiet customer gets another, the returned one does not.
    stats = run(on=days(95))
    assert winbacks(other_customer) == 2
    assert winbacks(customer) == 1
    assert stats["sent"] == 1

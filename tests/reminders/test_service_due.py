"""check_service_due: the due window, rebooking, consent, one email per customer,
idempotent re-runs and the business time zone."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from outbox.models import OutboundEmail
from reminders import service_due
from reminders.models import ServiceReminder
from retention.models import Job, Notification
from retention.scheduling import JobContext
from tests.factories import CustomerFactory, booked_job, completed_job, job_due_on

TODAY = dt.date(2026, 6, 15)


def run(*args, date: dt.date | None = TODAY) -> dict:
    out, err = io.StringIO(), io.StringIO()
    if date is not None:
        args = ("--date", date.isoformat(), *args)
    call_command("check_service_due", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def reminded_due_dates(customer) -> list[dt.date]:
    return sorted(ServiceReminder.objects.filter(customer=customer).values_list("due_date", flat=True))


@pytest.fixture
def due(customer, provider, lawn):
    """due(n): a lawn job of the customer due n days from TODAY."""

    def make(n, *, who=None, service=None):
        return job_due_on(customer=who or customer, service_type=service or lawn, provider=provider, due_on=days(n))

    return make


@pytest.mark.django_db
class TestDueWindow:
    def test_due_in_three_days_is_reminded_four_is_not(self, due, customer):
        due(3)
        due(4, who=CustomerFactory())
        stats = run()
        assert reminded_due_dates(customer) == [days(3)]
        assert ServiceReminder.objects.count() == 1
        assert stats["eligible"] == 1 and stats["sent"] == 1

    def test_thirty_days_overdue_is_reminded_thirty_one_is_not(self, due, customer):
        due(-30)
        other = CustomerFactory()
        due(-31, who=other)
        run()
        assert reminded_due_dates(customer) == [days(-30)]
        assert reminded_due_dates(other) == []

    def test_completed_jobs_only(self, customer, provider, lawn):
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-20), scheduled_for=days(1))
        assert run()["due"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Pacific/Kiritimati"])
def test_business_time_zone_date_decides_at_2330_utc(settings, zone, customer, provider, lawn):
    """At 23:30 UTC on June 15 it is already June 16 in these zones: the window runs to
    June 19, so a job due on the 19th is reminded (by the UTC date it would not be)."""
    settings.TIME_ZONE = zone
    job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=dt.date(2026, 6, 19))
    job_due_on(customer=CustomerFactory(), service_type=lawn, provider=provider, due_on=dt.date(2026, 6, 20))
    with time_machine.travel(dt.datetime(2026, 6, 15, 23, 30, tzinfo=dt.UTC), tick=False):
        stats = run(date=None)
    assert stats["date"] == "2026-06-16"
    assert reminded_due_dates(customer) == [dt.date(2026, 6, 19)]
    assert ServiceReminder.objects.count() == 1


@pytest.mark.django_db
def test_in_new_york_2330_utc_is_still_the_same_day(settings, customer, provider, lawn):
    settings.TIME_ZONE = "America/New_York"
    job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=dt.date(2026, 6, 19))
    with time_machine.travel(dt.datetime(2026, 6, 15, 23, 30, tzinfo=dt.UTC), tick=False):
        stats = run(date=None)
    assert stats["date"] == "2026-06-15"
    assert reminded_due_dates(customer) == []


@pytest.mark.django_db
class TestWhoIsReminded:
    def test_rebooked_same_service_is_not_reminded(self, due, customer, provider, lawn):
        job = due(1)
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-2), scheduled_for=days(5))
        stats = run()
        assert not ServiceReminder.objects.filter(job=job).exists()
        assert stats["skippedByReason"]["rebooked"] == 1
        assert OutboundEmail.objects.count() == 0

    def test_rebooked_and_completed_since_is_not_reminded(self, due, customer, provider, lawn):
        due(-10)  # its service was done again after: that later job is the one that counts
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=days(-5))
        run()
        assert reminded_due_dates(customer) == []

    def test_cancelled_rebooking_does_not_count(self, due, customer, provider, lawn):
        due(1)
        booked_job(
            customer=customer, service_type=lawn, provider=provider, booked_on=days(-2),
            scheduled_for=days(5), status=Job.Status.CANCELLED,
        )
        run()
        assert reminded_due_dates(customer) == [days(1)]

    def test_visit_booked_before_the_completion_and_still_ahead_is_not_reminded(self, due, customer, provider, lawn):
        job = due(1)  # completed on days(-13)
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-16), scheduled_for=days(3))
        stats = run()
        assert not ServiceReminder.objects.filter(job=job).exists()
        assert stats["skippedByReason"]["rebooked"] == 1

    def test_visit_booked_before_the_completion_now_past_does_not_count(self, due, customer, provider, lawn):
        due(1)  # completed on days(-13); the other visit's day has passed and it was never done
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-16), scheduled_for=days(-1))
        run()
        assert reminded_due_dates(customer) == [days(1)]

    def test_older_completion_superseded_by_a_newer_one_booked_before_it(self, customer, provider, lawn):
        # Both visits were booked before the first was done (booked 7 days before each completion).
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(-10), booked_on=days(-30))
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(-6), booked_on=days(-29))
        run()
        assert reminded_due_dates(customer) == [days(-6)]

    @pytest.mark.parametrize("scheduled_for", [3, -20])
    def test_cancelled_visit_booked_before_the_completion_does_not_count(
        self, due, customer, provider, lawn, scheduled_for
    ):
        due(1)
        booked_job(
            customer=customer, service_type=lawn, provider=provider, booked_on=days(-16),
            scheduled_for=days(scheduled_for), status=Job.Status.CANCELLED,
        )
        run()
        assert reminded_due_dates(customer) == [days(1)]

    def test_another_service_booked_is_still_reminded(self, due, customer, provider, service_types):
        due(1)
        booked_job(
            customer=customer, service_type=service_types["pool-service"], provider=provider,
            booked_on=days(-2), scheduled_for=days(5),
        )
        run()
        assert reminded_due_dates(customer) == [days(1)]

    def test_reminder_preference_off_no_email_no_notification(self, due, customer):
        customer.service_reminders_opt_in = False
        customer.save()
        due(1)
        stats = run()
        assert ServiceReminder.objects.count() == 0
        assert OutboundEmail.objects.count() == 0
        assert Notification.objects.count() == 0
        assert stats["skippedByReason"]["remindersOff"] == 1
        assert stats["sent"] == 0


    def test_deactivated_account_is_not_reminded(self, due, customer):
        customer.user.is_active = False
        customer.user.save()
        due(1)
        active = CustomerFactory()
        due(1, who=active)
        stats = run()
        assert reminded_due_dates(customer) == [] and reminded_due_dates(active) == [days(1)]
        assert not OutboundEmail.objects.filter(customer=customer).exists()
        assert not Notification.objects.filter(customer=customer).exists()
        assert stats["skippedByReason"]["deactivated"] == 1 and stats["sent"] == 1

@pytest.mark.django_db
class TestOncePerDueDate:
    def test_three_consecutive_days_remind_each_due_date_once(self, due, customer):
        due(3)  # enters the window on day 0
        for offset in range(3):
            run(date=days(offset))
        assert reminded_due_dates(customer) == [days(3)]
        assert OutboundEmail.objects.filter(customer=customer).count() == 1
        assert Notification.objects.filter(customer=customer, kind="service_due").count() == 1

    def test_a_due_date_entering_the_window_later_gets_its_own_reminder(self, customer, provider, service_types):
        lawn, pool = service_types["lawn-care"], service_types["pool-service"]
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(3))
        job_due_on(customer=customer, service_type=pool, provider=provider, due_on=days(5))
        for offset in range(3):
            run(date=days(offset))
        assert reminded_due_dates(customer) == [days(3), days(5)]
        assert OutboundEmail.objects.filter(customer=customer).count() == 2

    def test_rerun_same_day_sends_nothing_new(self, due, customer):
        due(0)
        first = run()
        second = run()
        assert first["sent"] == 1
        assert second["sent"] == 0 and second["eligible"] == 0
        assert second["skippedByReason"]["alreadyReminded"] == 1
        assert OutboundEmail.objects.count() == 1

    def test_two_services_due_one_email_listing_both(self, customer, provider, service_types):
        lawn, pest = service_types["lawn-care"], service_types["pest-control"]
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(-2))
        job_due_on(customer=customer, service_type=pest, provider=provider, due_on=days(2))
        stats = run()
        assert stats["sent"] == 2 and stats["emails"] == 1
        email = OutboundEmail.objects.get()
        assert email.kind == OutboundEmail.Kind.REMINDER
        assert email.template == "service_due"
        for body in (email.text_body, email.html_body):
            assert "Lawn Care" in body and "Pest Control" in body
        assert Notification.objects.filter(kind="service_due").count() == 1
        assert ServiceReminder.objects.count() == 2


@pytest.mark.django_db
def test_the_email_says_what_is_due_who_does_it_and_how_to_book(due, customer, provider):
    due(2)
    run()
    email = OutboundEmail.objects.get()
    assert email.to_email == customer.email
    assert email.idempotency_key == f"service_due/{ServiceReminder.objects.get().pk}"
    assert "Lawn Care" in email.subject or "lawn care" in email.subject
    assert "June 17" in email.text_body and "in 2 days" in email.text_body
    assert provider.business_name in email.text_body and provider.phone in email.text_body
    assert "/customer-portal/book/?service=lawn-care" in email.text_body
    assert "Book now" in email.html_body and 'href="tel:5550199"' in email.html_body
    assert "List-Unsubscribe" not in email.headers  # a reminder, not marketing
    reminder = ServiceReminder.objects.get()
    assert reminder.due_date == days(2) and reminder.sent_at is not None


@pytest.mark.django_db
def test_the_email_is_delivered_after_the_writes(due, customer):
    due(1)
    stats = run()
    assert stats["delivery"]["sent"] == 1
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT
    assert [m.to for m in mail.outbox] == [[customer.email]]


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_sends_nothing(due):
    due(1)
    stats = run("--dry-run")
    assert stats["dryRun"] is True and stats["eligible"] == 1 and stats["sent"] == 0
    assert ServiceReminder.objects.count() == 0
    assert Notification.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_stats_line_has_the_contract_keys(due):
    due(1)
    stats = run()
    for key in ("job", "date", "dryRun", "eligible", "sent", "skipped", "failed", "skippedByReason"):
        assert key in stats
    assert stats["job"] == "check_service_due" and stats["date"] == TODAY.isoformat()


@pytest.mark.django_db
def test_the_notification_names_the_service_and_when(due, customer):
    due(2)
    run()
    notification = Notification.objects.get(customer=customer)
    assert notification.kind == "service_due" and notification.read_at is None
    assert notification.title == "Lawn Care is due in 2 days"
    assert notification.message == "Book Lawn Care with Pro Lawn and Pool to keep on schedule."
    assert notification.action_url == "/customer-portal/services/"


@pytest.mark.django_db
def test_one_notification_lists_every_service_due(customer, provider, service_types):
    job_due_on(customer=customer, service_type=service_types["pest-control"], provider=provider, due_on=days(2))
    job_due_on(customer=customer, service_type=service_types["lawn-care"], provider=provider, due_on=days(-2))
    run()
    notification = Notification.objects.get(customer=customer)
    assert notification.title == "2 services are due"
    assert notification.message == "Lawn Care 2 days overdue; Pest Control in 2 days."


@pytest.mark.django_db
def test_a_booking_since_selection_drops_the_job_from_its_batch(monkeypatch, customer, provider, service_types):
    """The batch checks eligibility again in its transaction: a visit booked after the
    target list was read stops that job's reminder; the customer's other service is
    still reminded."""
    lawn, pest = service_types["lawn-care"], service_types["pest-control"]
    job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(1))
    job_due_on(customer=customer, service_type=pest, provider=provider, due_on=days(2))
    select = service_due.select_targets

    def select_then_book(as_of):
        selected = select(as_of)
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=TODAY, scheduled_for=days(4))
        return selected

    monkeypatch.setattr(service_due, "select_targets", select_then_book)
    stats = run()
    assert stats["eligible"] == 2 and stats["sent"] == 1 and stats["emails"] == 1
    assert stats["skippedByReason"]["noLongerEligible"] == 1 and stats["skipped"] == 1
    assert reminded_due_dates(customer) == [days(2)]
    assert "Pest Control" in OutboundEmail.objects.get().text_body


@pytest.mark.django_db
def test_a_failing_batch_writes_nothing_and_the_next_batches_go_on(monkeypatch, due, customer, other_customer):
    due(1)
    due(2, who=other_customer)
    notification = service_due.reminder_notification

    def fail_for_customer(due_jobs, as_of):
        if due_jobs[0].customer_id == customer.pk:
            raise RuntimeError("boom")
        return notification(due_jobs, as_of)

    monkeypatch.setattr(service_due, "reminder_notification", fail_for_customer)
    ctx = JobContext(name="check_service_due", as_of=TODAY, dry_run=False, progress_stream=io.StringIO())
    service_due.check_service_due(ctx, batch_size=1)
    assert ctx.stats["sent"] == 1 and ctx.stats["failed"] == 1 and ctx.stats["errors"] == ["RuntimeError: boom"]
    # The failed batch's reminder row went with its transaction: tomorrow's run retries it.
    assert reminded_due_dates(customer) == [] and reminded_due_dates(other_customer) == [days(2)]
    assert not OutboundEmail.objects.filter(customer=customer).exists()
    assert not Notification.objects.filter(customer=customer).exists()

"""A scheduled job's delivery step (outbox.delivery.deliver_queued): the job
fails when emails it queued fail, and only then."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import call_command

from outbox.models import OutboundEmail
from retention.models import JobRun
from tests.factories import CampaignFactory, OutboundEmailFactory, completed_job

TODAY = dt.date(2027, 1, 4)  # a Monday in the winter campaign


def run(command: str) -> tuple[int, dict]:
    out = io.StringIO()
    code = 0
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(16), tzinfo=dt.UTC), tick=False):
        try:
            call_command(command, "--date", TODAY.isoformat(), stdout=out, stderr=io.StringIO())
        except SystemExit as exc:
            code = exc.code
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


def lapsed_for(days: int, customer, provider, lawn):
    day = TODAY - dt.timedelta(days=days)
    completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=day, booked_on=day)


def bounce(customer):
    """An address Resend rejects (422 validation_error): the email fails for good."""
    customer.user.email = "no-at-sign.example.com"
    customer.user.save()


@pytest.mark.django_db(transaction=True)
def test_seasonal_job_fails_when_its_email_fails(fake_resend, customer, provider, lawn):
    CampaignFactory(start_month=12, end_month=2)
    lapsed_for(45, customer, provider, lawn)
    bounce(customer)

    code, stats = run("send_seasonal_reminders")

    assert stats["sent"] == 1  # queued: code, send, email
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.FAILED
    assert stats["delivery"]["failed"] == 1
    assert stats["failed"] == 1
    assert code == 1
    assert JobRun.objects.get(name="send_seasonal_reminders").status == JobRun.Status.FAILED


@pytest.mark.django_db(transaction=True)
def test_winback_job_fails_when_its_email_fails(fake_resend, customer, provider, lawn):
    lapsed_for(120, customer, provider, lawn)
    bounce(customer)

    code, stats = run("check_inactive_customers")

    assert stats["failed"] == 1 and code == 1


@pytest.mark.django_db(transaction=True)
def test_an_unrelated_failed_email_is_reported_but_does_not_fail_the_job(
    fake_resend, customer, provider, lawn
):
    # A tier-upgrade email to a bad address happened to be due when the job delivered.
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(15), tzinfo=dt.UTC), tick=False):
        OutboundEmailFactory(template="loyalty_tier_upgrade", to_email="bounced.example.com")
    lapsed_for(120, customer, provider, lawn)

    code, stats = run("check_inactive_customers")

    assert stats["delivery"]["sent"] == 1 and stats["delivery"]["failed"] == 1
    assert stats["failed"] == 0
    assert code == 0
    assert [e["to"] for e in fake_resend.emails] == [[customer.email]]


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_emails_resend_never_accepts_fails_and_keeps_them_for_a_retry(
    fake_resend, customer, provider, lawn, settings
):
    settings.EMAIL_RETRY_WAIT_SECONDS = 0  # the run does not stay for retries
    fake_resend.fail_next(50, status=503)  # Resend is down for the whole run
    lapsed_for(120, customer, provider, lawn)

    code, stats = run("check_inactive_customers")

    email = OutboundEmail.objects.get(template="winback")
    assert email.status in (OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING)
    assert email.attempts >= 1
    assert stats["deliveryUndelivered"] == 1
    assert stats["failed"] == 1 and code == 1
    assert fake_resend.emails == []

"""The reminder and win-back emails leave through Resend (the fake_resend server,
spoken to by the real SDK) when the daily jobs run."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.management import call_command

from outbox.models import OutboundEmail
from tests.factories import completed_job, job_due_on

TODAY = dt.date(2026, 6, 15)


def run(command: str) -> dict:
    out = io.StringIO()
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(16), tzinfo=dt.UTC), tick=False):
        call_command(command, "--date", TODAY.isoformat(), stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_service_due_email_reaches_resend(fake_resend, customer, provider, service_types):
    job_due_on(customer=customer, service_type=service_types["lawn-care"], provider=provider, due_on=TODAY + dt.timedelta(days=2))
    job_due_on(customer=customer, service_type=service_types["pest-control"], provider=provider, due_on=TODAY - dt.timedelta(days=5))
    stats = run("check_service_due")
    assert stats["sent"] == 2 and stats["emails"] == 1 and stats["delivery"]["sent"] == 1
    [email] = fake_resend.emails
    assert email["to"] == [customer.email]
    assert "Lawn Care" in email["html"] and "Pest Control" in email["html"]
    assert "Book now" in email["text"]
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_winback_email_reaches_resend_with_unsubscribe_headers(fake_resend, customer, provider, lawn):
    day = TODAY - dt.timedelta(days=120)
    completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=day, booked_on=day)
    stats = run("check_inactive_customers")
    assert stats["sent"] == 1 and stats["delivery"]["sent"] == 1
    [email] = fake_resend.emails
    assert email["to"] == [customer.email]
    assert "15% off" in email["subject"]
    assert email["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["headers"]["List-Unsubscribe"].startswith("<http")

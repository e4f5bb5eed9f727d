"""Seasonal and win-back hold one shared lock around their writes, so while one job
writes marketing email the other waits, then re-checks the cap and sees it."""

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from campaigns.models import CampaignSend
from outbox.consent import marketing_email_lock
from outbox.models import OutboundEmail
from reminders.models import WinbackSend
from retention.clock import business_today
from tests.factories import CampaignFactory, completed_job


def hold_lock(acquired: threading.Event, release: threading.Event) -> None:
    """Another process writing marketing email: holds the lock until told to let go."""
    try:
        with marketing_email_lock():
            acquired.set()
            release.wait(30)
    finally:
        connection.close()


def run_in_thread(command: str) -> threading.Thread:
    def target():
        try:
            call_command(command, stdout=io.StringIO(), stderr=io.StringIO())
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


@pytest.mark.parametrize(
    "command, sends",
    [("check_inactive_customers", WinbackSend), ("send_seasonal_reminders", CampaignSend)],
)
@pytest.mark.django_db(transaction=True)
def test_a_job_waits_for_the_other_and_then_respects_its_email(command, sends, customer, provider, lawn):
    CampaignFactory(start_month=1, end_month=12)  # a campaign runs whatever the month
    day = business_today() - dt.timedelta(days=120)
    completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=day, booked_on=day)
    acquired, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(acquired, release))
    holder.start()
    assert acquired.wait(10)
    try:
        job = run_in_thread(command)
        job.join(2)
        assert job.is_alive(), "the job did not wait for the marketing-email lock"
        assert not sends.objects.exists()
        # Meanwhile the other job queues a marketing email to the same customer.
        OutboundEmail.objects.create(
            idempotency_key="other-job/1", template="other", kind=OutboundEmail.Kind.MARKETING,
            customer=customer, to_email=customer.email, subject="s", text_body="t", html_body="h",
        )
    finally:
        release.set()
        holder.join(10)
    job.join(30)
    assert not job.is_alive()
    assert not sends.objects.exists()  # the cap, re-checked after the wait, held
    assert OutboundEmail.objects.filter(customer=customer).count() == 1

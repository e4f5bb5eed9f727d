"""The staff churn view: customers filtered by days since their last booking, with
their last booking, last reminder and last win-back, in a fixed number of queries."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reminders.models import ServiceReminder, WinbackSend
from retention.models import Job
from tests.factories import (
    CustomerFactory,
    PromoCodeFactory,
    UserFactory,
    booked_job,
    completed_job,
)

TODAY = dt.date(2026, 6, 15)
URL = "/admin/reminders/customerchurn/"


@pytest.fixture(autouse=True)
def frozen_today(settings):
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def by_stage(provider, lawn):
    """One customer per stage, last booked 0, 29, 30, 59, 60, 89, 90 and 200 days ago."""
    people = {}
    for n in (0, 29, 30, 59, 60, 89, 90, 200):
        customer = CustomerFactory(user__email=f"booked{n}@example.com", user__name=f"Booked {n}")
        day = TODAY - dt.timedelta(days=n)
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=day, booked_on=day)
        people[n] = customer
    CustomerFactory(user__email="never@example.com", user__name="Never Booked")
    return people


def emails_listed(html: str) -> set[str]:
    return {word for word in html.replace("<", " ").replace(">", " ").split() if word.endswith("@example.com")} - {
        "staff@example.com"
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stage", "expected"),
    [("active", {0, 29}), ("cooling", {30, 59}), ("at_risk", {60, 89}), ("inactive", {90, 200})],
)
def test_filter_by_days_since_last_booking(staff_client, by_stage, stage, expected):
    response = staff_client.get(URL, {"churn": stage})
    assert response.status_code == 200
    assert emails_listed(response.content.decode()) == {f"booked{n}@example.com" for n in expected}


@pytest.fixture
def booked_long_ago(provider, lawn):
    """Customers whose last booking is 120 days old: one with that visit still ahead, one
    whose visit was cancelled, one whose visit day has passed (never done)."""
    people = {}
    for name, scheduled_for, status in [
        ("ahead", 3, Job.Status.SCHEDULED),
        ("cancelled", 3, Job.Status.CANCELLED),
        ("passed", -1, Job.Status.SCHEDULED),
    ]:
        customer = CustomerFactory(user__email=f"{name}@example.com")
        booked_job(
            customer=customer, service_type=lawn, provider=provider, booked_on=TODAY - dt.timedelta(days=120),
            scheduled_for=TODAY + dt.timedelta(days=scheduled_for), status=status,
        )
        people[name] = customer
    return people


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stage", "expected"),
    [("active", {"ahead"}), ("cooling", set()), ("at_risk", set()), ("inactive", {"cancelled", "passed"})],
)
def test_a_job_scheduled_ahead_makes_a_customer_active(staff_client, booked_long_ago, stage, expected):
    html = staff_client.get(URL, {"churn": stage}).content.decode()
    assert emails_listed(html) == {f"{name}@example.com" for name in expected}


@pytest.mark.django_db
def test_stage_column_says_active_for_a_job_scheduled_ahead(staff_client, booked_long_ago):
    html = staff_client.get(URL, {"q": "ahead@example.com"}).content.decode()
    assert re.findall(r'<td class="field-stage">([^<]*)</td>', html) == ["Active (under 30 days)"]
    assert re.findall(r'<td class="field-days_since_last_booking">([^<]*)</td>', html) == ["120"]

@pytest.mark.django_db
def test_never_booked_filter(staff_client, by_stage):
    assert emails_listed(staff_client.get(URL, {"churn": "never"}).content.decode()) == {"never@example.com"}


@pytest.mark.django_db
def test_shows_last_booking_last_reminder_and_last_winback(staff_client, by_stage):
    customer = by_stage[90]
    job = customer.jobs.get()
    ServiceReminder.objects.create(
        job=job, customer=customer, due_date=job.next_due_date,
        sent_at=timezone.make_aware(dt.datetime(2026, 4, 2, 12)),
    )
    WinbackSend.objects.create(
        customer=customer, promo_code=PromoCodeFactory(customer=customer),
        sent_at=timezone.make_aware(dt.datetime(2026, 6, 10, 12)),
    )
    html = staff_client.get(URL, {"q": "booked90@example.com"}).content.decode()
    assert "March 17, 2026" in html  # last booking, 90 days before June 15
    assert "April 2, 2026" in html  # last reminder
    assert "June 10, 2026" in html  # last win-back
    assert "Inactive (90+ days)" in html
    assert ">90<" in html  # days since


@pytest.mark.django_db
def test_changelist_queries_do_not_grow_with_customers(staff_client, by_stage, provider, lawn):
    with CaptureQueriesContext(connection) as few:
        staff_client.get(URL)
    for i in range(20):
        customer = CustomerFactory()
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=TODAY - dt.timedelta(days=i * 7))
        WinbackSend.objects.create(customer=customer, promo_code=PromoCodeFactory(customer=customer))
    with CaptureQueriesContext(connection) as many:
        staff_client.get(URL)
    assert len(many) == len(few)

"""Customers in bulk for the holdout tests, and running the two marketing jobs."""

import datetime as dt
import io
import uuid

import pytest
import time_machine
from django.utils import timezone

from campaigns.seasonal import queue_seasonal_offers
from reminders.winback import check_inactive_customers
from retention.bulk import insert_rows
from retention.clock import start_of_business_day
from retention.models import Customer, Job, User
from retention.scheduling import JobContext
from tests.factories import CampaignFactory

# Monday 4 January 2027: the winter campaign runs.
MONDAY = dt.date(2027, 1, 4)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(dt.datetime(2027, 1, 4, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def winter(service_types):
    return CampaignFactory(
        season="winter", title="Winter Comfort", discount_percent=20, start_month=12, end_month=2,
        promo_valid_days=30, service_types=[service_types["hvac"]],
    )


@pytest.fixture
def holdouts_on(settings):
    """Holdout groups as configured by default (tests/conftest.py turns them off)."""
    settings.HOLDOUT_PERCENT = 10
    return settings


def make_customers(count: int, *, provider, service_type, booked_days_ago: int, prefix: str = "c") -> list[int]:
    """`count` opted-in customers, each with one completed job booked that many days
    before MONDAY; their ids in order. Written set-based (10,000 in about a second)."""
    tag = uuid.uuid4().hex[:8]
    emails = [f"{prefix}{i}-{tag}@example.com" for i in range(count)]
    insert_rows(
        User, ["email", "name", "date_joined"], [(e, f"Customer {i}", timezone.now()) for i, e in enumerate(emails)],
        same={"password": "!"},  # no usable password
    )
    user_ids = list(User.objects.filter(email__in=emails).order_by("pk").values_list("pk", flat=True))
    insert_rows(Customer, ["user_id", "created_at"], [(u, timezone.now()) for u in user_ids])
    ids = list(Customer.objects.filter(user_id__in=user_ids).order_by("pk").values_list("pk", flat=True))
    day = MONDAY - dt.timedelta(days=booked_days_ago)
    at = start_of_business_day(day) + dt.timedelta(hours=12)
    insert_rows(
        Job,
        ["id", "customer_id", "created_at", "completed_at"],
        [(uuid.uuid4(), pk, at, at) for pk in ids],
        same={
            "provider_id": provider.pk, "service_type_id": service_type.pk, "scheduled_for": day,
            "status": Job.Status.COMPLETED, "price": service_type.base_price,
            "amount_paid": service_type.base_price,
            "next_due_date": day + dt.timedelta(days=service_type.frequency_days),
        },
    )
    return ids


def seasonal(on: dt.date = MONDAY, *, dry_run: bool = False) -> dict:
    ctx = JobContext(name="send_seasonal_reminders", as_of=on, dry_run=dry_run, progress_stream=io.StringIO())
    queue_seasonal_offers(ctx)
    return ctx.stats


def winback(on: dt.date = MONDAY, *, dry_run: bool = False) -> dict:
    ctx = JobContext(name="check_inactive_customers", as_of=on, dry_run=dry_run, progress_stream=io.StringIO())
    check_inactive_customers(ctx)
    return ctx.stats

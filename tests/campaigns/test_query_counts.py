"""The seasonal job does its work in a bounded number of queries per batch: the
count for 1,000 eligible customers differs from 10 only by the extra batches."""

import datetime as dt
import math
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import CampaignSend
from campaigns.seasonal import JOB_NAME, queue_seasonal_offers
from retention.models import Customer, Job, User
from retention.scheduling import JobContext
from tests.factories import CampaignFactory

BATCH = 500
# Campaign, its service types, the customers each of the 7 eligibility rules names,
# every customer, and taking and releasing the marketing-email lock.
FIXED = 12
# Savepoint, one statement (re-checking the batch, then writing codes, their service
# types, sends, notifications and emails), release.
PER_BATCH = 3


def lapsed_customers(n, provider, service_type, prefix="lapsed"):
    users = User.objects.bulk_create([User(email=f"{prefix}{i}@example.com", name=f"Lapsed {i}") for i in range(n)])
    customers = Customer.objects.bulk_create([Customer(user=user) for user in users])
    booked_at = timezone.now() - dt.timedelta(days=60)
    Job.objects.bulk_create(
        [
            Job(
                customer=customer, provider=provider, service_type=service_type, scheduled_for=booked_at.date(),
                price=service_type.base_price, amount_paid=service_type.base_price, status=Job.Status.CANCELLED,
                created_at=booked_at, cancelled_at=booked_at,
            )
            for customer in customers
        ]
    )


def expected_queries(eligible: int) -> int:
    return FIXED + PER_BATCH * math.ceil(eligible / BATCH)


@pytest.fixture
def campaign(service_types, settings):
    settings.JOB_BATCH_SIZE = BATCH
    return CampaignFactory(start_month=1, end_month=12, service_types=[service_types["hvac"]])


@pytest.mark.parametrize("eligible", [10, 1000])
def test_selection_and_writes_take_a_fixed_number_of_queries_per_batch(
    campaign, provider, lawn, eligible, django_assert_num_queries
):
    lapsed_customers(eligible, provider, lawn)
    ctx = JobContext(name=JOB_NAME, as_of=timezone.localdate(), dry_run=False, progress_stream=StringIO())
    with django_assert_num_queries(expected_queries(eligible)):
        queue_seasonal_offers(ctx)
    assert ctx.stats["sent"] == eligible == CampaignSend.objects.count()
    assert ctx.stats["batches"] == math.ceil(eligible / BATCH)


def test_the_whole_command_grows_with_batches_not_customers(campaign, provider, lawn, mailoutbox):
    def command_queries(n):
        # Customers sent earlier now hold an active code, so each run sends only the new ones.
        lapsed_customers(n, provider, lawn, prefix=f"run{n}-")
        with CaptureQueriesContext(connection) as queries:
            call_command("send_seasonal_reminders", stdout=StringIO(), stderr=StringIO())
        return len(queries)

    few = command_queries(10)
    many = command_queries(1000)
    assert len(mailoutbox) == 1010
    # 990 more customers: one more job batch and ten more delivery batches of 100,
    # each a handful of statements; one query per customer would be 990 more.
    assert many - few <= PER_BATCH + 10 * 10

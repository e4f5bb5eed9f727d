"""Both daily jobs are set-based: their selection-and-write phase costs a fixed number
of queries plus a fixed number per batch, whether 10 or 1,000 customers are targets.

Delivery (retention.delivery.deliver_pending) runs after this phase and is the email
helper's; it is left out of these counts.
"""

import datetime as dt
import io
import math
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from outbox.models import OutboundEmail
from reminders.models import ServiceReminder, WinbackSend
from reminders.service_due import check_service_due
from reminders.winback import check_inactive_customers
from retention.models import Customer, Job, Notification, User
from retention.scheduling import JobContext

TODAY = dt.date(2026, 6, 15)
BATCH = 100
# Per run: jobs due, jobs not yet reminded, the target list (check_service_due). Per
# batch: SAVEPOINT, the reminders' INSERT (it selects the batch's jobs itself, so it has
# no SELECT of its own), one statement writing the notifications and the emails, RELEASE
# SAVEPOINT (the test runs inside a transaction; in production the pair is BEGIN/COMMIT).
SERVICE_DUE_FIXED, SERVICE_DUE_PER_BATCH = 3, 4
# Fixed: the counts by reason, the targets, taking and releasing the marketing-email
# lock. Per batch: SAVEPOINT, the one statement that re-checks the batch and writes its
# promo codes, win-back sends, notifications and emails, RELEASE SAVEPOINT.
WINBACK_FIXED, WINBACK_PER_BATCH = 4, 3


def customers_with_a_job(n: int, *, provider, service_type, completed_on: dt.date) -> list[Customer]:
    """n customers, each with one job completed on `completed_on`, written in bulk."""
    users = User.objects.bulk_create(User(email=f"bulk{i}@example.com", name=f"Bulk {i}", password="!") for i in range(n))
    customers = Customer.objects.bulk_create(Customer(user=user) for user in users)
    at = timezone.make_aware(dt.datetime.combine(completed_on, dt.time(12)))
    Job.objects.bulk_create(
        Job(
            customer=customer,
            provider=provider,
            service_type=service_type,
            scheduled_for=completed_on,
            status=Job.Status.COMPLETED,
            price=Decimal("65.00"),
            amount_paid=Decimal("65.00"),
            created_at=at - dt.timedelta(days=7),
            completed_at=at,
            next_due_date=service_type.next_due_date(completed_on),
        )
        for customer in customers
    )
    return customers


def context(name: str) -> JobContext:
    return JobContext(name=name, as_of=TODAY, dry_run=False, progress_stream=io.StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize("targets", [10, 1000])
def test_check_service_due_queries_grow_only_with_batches(targets, provider, lawn, django_assert_num_queries):
    customers_with_a_job(targets, provider=provider, service_type=lawn, completed_on=TODAY - dt.timedelta(days=13))
    ctx = context("check_service_due")
    batches = math.ceil(targets / BATCH)
    with django_assert_num_queries(SERVICE_DUE_FIXED + SERVICE_DUE_PER_BATCH * batches):
        check_service_due(ctx, batch_size=BATCH)
    assert ctx.stats["sent"] == targets and ctx.stats["emails"] == targets
    assert ServiceReminder.objects.count() == targets
    assert Notification.objects.count() == targets
    assert OutboundEmail.objects.filter(kind="reminder").count() == targets


@pytest.mark.django_db
@pytest.mark.parametrize("targets", [10, 1000])
def test_check_inactive_customers_queries_grow_only_with_batches(targets, provider, lawn, django_assert_num_queries):
    customers_with_a_job(targets, provider=provider, service_type=lawn, completed_on=TODAY - dt.timedelta(days=120))
    ctx = context("check_inactive_customers")
    batches = math.ceil(targets / BATCH)
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(16), tzinfo=dt.UTC), tick=False):
        with django_assert_num_queries(WINBACK_FIXED + WINBACK_PER_BATCH * batches):
            check_inactive_customers(ctx, batch_size=BATCH)
    assert ctx.stats["sent"] == targets
    assert WinbackSend.objects.count() == targets
    assert OutboundEmail.objects.filter(kind="marketing").count() == targets

"""Completing a job: one function, one transaction, one completion."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from actions.jobs import JobStateError, cancel_job, complete_job
from retention.models import Job
from tests.factories import JobFactory


@pytest.mark.parametrize(
    ("slug", "days"), [("lawn-care", 14), ("pool-service", 7), ("pest-control", 30), ("hvac", 180)]
)
def test_next_due_date_is_completion_day_plus_frequency(service_types, provider, customer, slug, days):
    job = JobFactory(customer=customer, provider=provider, service_type=service_types[slug])
    with time_machine.travel(dt.datetime(2026, 5, 10, 15, 0, tzinfo=dt.UTC), tick=False):
        completion = complete_job(job=job)
    assert completion.job.status == Job.Status.COMPLETED
    assert completion.job.next_due_date == dt.date(2026, 5, 10) + dt.timedelta(days=days)


def test_completion_day_is_the_business_day(settings, lawn, provider, customer):
    settings.TIME_ZONE = "America/New_York"
    job = JobFactory(customer=customer, provider=provider, service_type=lawn)
    # 02:30 UTC on May 11 is still May 10 in New York.
    with time_machine.travel(dt.datetime(2026, 5, 11, 2, 30, tzinfo=dt.UTC), tick=False):
        completion = complete_job(job=job)
    assert completion.job.next_due_date == dt.date(2026, 5, 24)


def test_completing_twice_changes_nothing_the_second_time(lawn, provider, customer):
    job = JobFactory(customer=customer, provider=provider, service_type=lawn)
    first = complete_job(job=job, amount=Decimal("50.00"))
    second = complete_job(job=job, amount=Decimal("99.00"))
    assert first.completed_now and not second.completed_now
    job.refresh_from_db()
    assert job.amount_paid == Decimal("50.00")
    assert job.completed_at == first.job.completed_at
    assert customer.notifications.count() == 1


def test_a_cancelled_job_cannot_be_completed(lawn, provider, customer):
    job = cancel_job(job=JobFactory(customer=customer, provider=provider, service_type=lawn))
    with pytest.raises(JobStateError):
        complete_job(job=job)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


@pytest.mark.django_db(transaction=True)
def test_completing_from_two_threads_at_once_completes_once(service_types):
    from tests.factories import CustomerFactory, ProviderFactory

    lawn = service_types["lawn-care"]
    job = JobFactory(
        customer=CustomerFactory(), provider=ProviderFactory(service_types=[lawn]), service_type=lawn
    )
    barrier = threading.Barrier(2)
    results, errors = [], []

    def complete():
        try:
            barrier.wait()
            results.append(complete_job(job=job))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.completed_now for r in results) == [False, True]
    assert job.customer.notifications.count() == 1
    job.refresh_from_db()
    assert job.completed_at is not None and job.completed_at <= timezone.now()

"""Plans fixtures: a weekly pool plan and a quarterly pest plan, with the time fixed."""

import datetime as dt
import io

import pytest
import time_machine
from django.utils import timezone

from plans.models import Plan
from retention.scheduling import JobContext

TODAY = dt.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def frozen_today():
    """Business "today" is TODAY (noon, business time) in every plans test."""
    moment = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12)))
    with time_machine.travel(moment, tick=True):
        yield


@pytest.fixture
def pool(service_types):
    return service_types["pool-service"]


@pytest.fixture
def pool_plan(pool):
    return Plan.objects.create(
        name="Weekly pool care", service_type=pool, interval_days=7, discount_percent=10, bonus_points_percent=20
    )


@pytest.fixture
def pest_plan(service_types):
    return Plan.objects.create(
        name="Quarterly pest control", service_type=service_types["pest-control"], interval_days=90,
        discount_percent=15, bonus_points_percent=10,
    )


def job_context(as_of: dt.date = TODAY, *, dry_run: bool = False) -> JobContext:
    return JobContext(name="schedule_plan_visits", as_of=as_of, dry_run=dry_run, progress_stream=io.StringIO())

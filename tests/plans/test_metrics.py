"""The staff metrics' plans section: open plans per week, visits booked and completed,
plans cancelled per week, and its CSV export."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from actions.jobs import complete_job
from metrics.periods import Period
from metrics.plans import plan_activity
from plans.actions import cancel_subscription, subscribe
from tests.factories import CustomerFactory, UserFactory

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def at(day: dt.date):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(12))), tick=False)


def test_plan_activity_by_week(provider, pool_plan, django_assert_num_queries):
    a, b = CustomerFactory(), CustomerFactory()
    with at(TODAY - dt.timedelta(days=20)):
        first = subscribe(customer=a, plan_id=pool_plan.pk, start_date=TODAY - dt.timedelta(days=20))
        subscribe(customer=b, plan_id=pool_plan.pk, start_date=TODAY - dt.timedelta(days=18))
        complete_job(job=first.visits.get().job, amount=Decimal("85.50"))
    with at(TODAY - dt.timedelta(days=3)):
        cancel_subscription(customer=a, subscription_id=first.pk)
    period = Period.last(4, today=TODAY)
    with django_assert_num_queries(2):
        activity = plan_activity(period)
    # Weeks end TODAY-21, -14, -7, TODAY.
    assert activity.open_by_week == [0, 2, 2, 1]
    assert activity.cancelled_by_week == [0, 0, 0, 1]
    assert activity.booked_by_week == [0, 2, 0, 0]
    assert activity.completed_by_week == [0, 1, 0, 0]


def test_the_plans_csv(client, provider, pool_plan, customer):
    subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/metrics/plans-weekly.csv?weeks=4")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Week ending", "Open plans at the week's end", "Plans cancelled", "Plan visits booked", "Plan visits completed"]
    assert rows[-1] == [TODAY.isoformat(), "1", "0", "1", "0"]

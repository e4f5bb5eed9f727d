"""The churn chart's buckets are reminders' churn stages (reminders.selectors.churn_stages),
the ones the staff churn view filters by and win-back mails ("inactive" begins at
WINBACK_INACTIVE_DAYS): change the setting and the chart, the view and the job follow."""

import datetime as dt

import pytest

from metrics import selectors
from metrics.periods import Period
from reminders import selectors as reminder_selectors
from reminders.winback import inactive_customers
from retention.models import Customer, Job
from tests.factories import CustomerFactory

from .conftest import TODAY, at, book

DAYS_SINCE = (15, 25, 45, 75, 100)  # at the period's last day, TODAY


@pytest.fixture
def booked_days_ago(lawn, provider):
    for days in DAYS_SINCE:
        day = TODAY - dt.timedelta(days=days)
        book(CustomerFactory(), lawn, provider, booked_at=at(day.month, day.day), status=Job.Status.COMPLETED)


def last_week(churn: dict[str, list[int]]) -> dict[str, int]:
    return {bucket: counts[-1] for bucket, counts in churn.items()}


def as_staff_see_it() -> dict[str, int]:
    """The last week's buckets by the churn view's own rule."""
    labels = {stage.label: stage.key for stage in reminder_selectors.churn_stages()}
    counts = dict.fromkeys(selectors.CHURN_BUCKETS, 0)
    for days in DAYS_SINCE:
        counts[labels[reminder_selectors.churn_stage(days)]] += 1
    return counts


@pytest.mark.django_db
def test_the_chart_uses_the_churn_views_stages(booked_days_ago):
    churn = last_week(selectors.churn_by_week(Period.last(4, today=TODAY)))
    assert churn == {"active": 2, "cooling": 1, "at_risk": 1, "inactive": 1} == as_staff_see_it()


@pytest.mark.django_db
def test_winback_inactive_days_moves_the_inactive_stage_everywhere(settings, booked_days_ago):
    settings.WINBACK_INACTIVE_DAYS = 70
    churn = last_week(selectors.churn_by_week(Period.last(4, today=TODAY)))
    assert churn == {"active": 2, "cooling": 1, "at_risk": 0, "inactive": 2} == as_staff_see_it()
    assert reminder_selectors.churn_stage(70) == "Inactive (70+ days)"
    assert reminder_selectors.churn_stage(69) == "At risk (60-69 days)"
    # Win-back mails exactly the inactive stage: the customers booked 75 and 100 days ago.
    assert inactive_customers(TODAY).count() == 2


@pytest.mark.django_db
def test_a_job_scheduled_for_the_last_day_itself_keeps_the_customer_active_as_the_churn_view_does(lawn, provider):
    """Booked 45 days before the period's last day, for that very day: the churn view
    counts the job as ahead on its day (scheduled_for >= today), so the chart does too."""
    booked = TODAY - dt.timedelta(days=45)
    customer = CustomerFactory()
    book(customer, lawn, provider, booked_at=at(booked.month, booked.day), scheduled_for=TODAY)

    churn = last_week(selectors.churn_by_week(Period.last(4, today=TODAY)))

    assert Customer.objects.filter(reminder_selectors.job_scheduled_ahead(TODAY), pk=customer.pk).exists()
    assert reminder_selectors.churn_stage(45, job_ahead=True) == "Active (under 30 days)"
    assert churn == {"active": 1, "cooling": 0, "at_risk": 0, "inactive": 0}

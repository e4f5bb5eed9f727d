"""The reminder rules one by one, where the job-level tests do not pin them: the due date
in words, the churn stage's edges, the alert's window arguments, and the eligibility
the reminders' INSERT checks again for customers selected a moment before (a customer
who turns reminders off or is deactivated meanwhile)."""

import datetime as dt

import pytest
from django.utils import timezone

from reminders.models import ServiceReminder, WinbackSend
from reminders.selectors import ALERT_AHEAD_DAYS, ALERT_OVERDUE_DAYS, churn_stage, due_services, when_due
from reminders.service_due import mark_reminded, select_targets
from reminders.winback import winback_targets
from retention.models import Customer, Job, User
from tests.factories import CustomerFactory, PromoCodeFactory, completed_job, job_due_on

TODAY = dt.date(2026, 6, 15)


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.mark.parametrize(
    "n,words", [(0, "today"), (1, "in 1 day"), (2, "in 2 days"), (-1, "1 day overdue"), (-3, "3 days overdue")]
)
def test_when_due_in_words(n, words):
    assert when_due(n) == words


def test_churn_stage_of_no_booking_and_of_a_booking_dated_ahead():
    assert churn_stage(None) == "never booked"
    assert churn_stage(-1) == "Active (under 30 days)"


@pytest.mark.django_db
def test_due_services_window_is_the_alerts_both_ends_included(customer, provider, lawn, django_assert_num_queries):
    job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(10))
    ahead, overdue = ALERT_AHEAD_DAYS, ALERT_OVERDUE_DAYS

    assert due_services(customer=customer, today=days(10 - ahead - 1)) == []
    with django_assert_num_queries(1):  # the job comes with its service and provider
        (due,) = due_services(customer=customer, today=days(10 - ahead))
        assert (due.days_until_due, due.job.provider.business_name) == (ahead, provider.business_name)
    assert len(due_services(customer=customer, today=days(10 + overdue))) == 1
    assert due_services(customer=customer, today=days(10 + overdue + 1)) == []


@pytest.fixture
def due_lawn(provider, lawn):
    def make(customer, n=0):
        return job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(n))

    return make


def remind(customers) -> list:
    return mark_reminded(as_of=TODAY, customer_ids=[c.pk for c in customers], now=timezone.now())


@pytest.mark.django_db
def test_the_insert_checks_reminders_on_and_account_active_again(customer, other_customer, due_lawn):
    """Selected, then reminders turned off or the account deactivated before the write:
    no reminder (while another customer still wants them)."""
    due_lawn(customer)
    due_lawn(other_customer)
    off = CustomerFactory()
    due_lawn(off)
    _stats, targets = select_targets(TODAY)
    assert {customer_id for customer_id, _job in targets} == {customer.pk, other_customer.pk, off.pk}

    Customer.objects.filter(pk=off.pk).update(service_reminders_opt_in=False)
    User.objects.filter(pk=other_customer.user_id).update(is_active=False)

    reminded = remind([customer, other_customer, off])
    assert [job.customer_id for job in reminded] == [customer.pk]


@pytest.mark.django_db
def test_reminded_means_this_job_for_this_due_date(customer, other_customer, due_lawn):
    """Another customer's reminder for the same date does not count, nor does a reminder
    of this job for an earlier due date."""
    mine, theirs = due_lawn(customer), due_lawn(other_customer)
    ServiceReminder.objects.create(job=theirs, customer=other_customer, due_date=theirs.next_due_date)
    earlier = ServiceReminder.objects.create(job=mine, customer=customer, due_date=days(-60))

    assert [job.customer_id for job in remind([customer, other_customer])] == [customer.pk]
    assert ServiceReminder.objects.filter(job=mine).exclude(pk=earlier.pk).get().due_date == TODAY


@pytest.mark.django_db
def test_a_job_cancelled_after_completion_is_not_due(customer, due_lawn):
    Job.objects.filter(pk=due_lawn(customer).pk).update(status=Job.Status.CANCELLED)
    stats, targets = select_targets(TODAY)
    assert stats["due"] == 0 and targets == []
    assert remind([customer]) == []


@pytest.mark.django_db
def test_one_customers_win_back_does_not_cool_another_down(customer, other_customer, provider, lawn):
    for someone in (customer, other_customer):
        completed_job(customer=someone, service_type=lawn, provider=provider, completed_on=days(-120), booked_on=days(-120))
    WinbackSend.objects.create(customer=other_customer, promo_code=PromoCodeFactory(customer=other_customer), sent_on=days(-1))

    assert list(winback_targets(TODAY)) == [customer]

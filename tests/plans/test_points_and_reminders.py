"""A completed plan visit earns its points plus the plan's bonus as its own ledger line,
once; a plan member is not reminded of, or won back for, the plan's service."""

import datetime as dt
from decimal import Decimal

import pytest

from actions.jobs import cancel_job, complete_job
from loyalty.models import LoyaltyAccount, PointsEntry
from plans.actions import cancel_subscription, pause, subscribe
from reminders.models import ServiceReminder, WinbackSend
from reminders.service_due import check_service_due
from reminders.winback import check_inactive_customers
from tests.factories import booked_job, completed_job, job_due_on

from .conftest import TODAY, job_context

pytestmark = pytest.mark.django_db


def first_visit_done_long_ago(subscription) -> None:
    """Moves the subscription's first visit 200 days back, done: nothing is scheduled
    ahead, so only the plan itself can keep its member from reminders and win-back."""
    from django.utils import timezone

    from retention.models import Job

    day = TODAY - dt.timedelta(days=200)
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    Job.objects.filter(plan_visit__subscription=subscription).update(
        status="completed", scheduled_for=day, created_at=at - dt.timedelta(days=7), completed_at=at,
        next_due_date=day + dt.timedelta(days=30),
    )


def test_a_completed_plan_visit_earns_the_plan_bonus_once(customer, provider, pool_plan, django_assert_num_queries):
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    job = subscription.visits.get().job
    with django_assert_num_queries(20):  # the plan is read with its visit, in one query
        first = complete_job(job=job, amount=Decimal("86.50"))
    again = complete_job(job=job, amount=Decimal("86.50"))
    entries = dict(PointsEntry.objects.filter(job=job).values_list("type", "points"))
    assert entries == {"earn": 86, "plan_bonus": 17}  # 20% of 86 (17.2), rounded down; Bronze: no tier bonus
    assert first.points_awarded == again.points_awarded == 103
    account = LoyaltyAccount.objects.get(pk=customer.pk)
    assert (account.points, account.lifetime_points) == (103, 103)


def test_a_job_that_is_not_a_plan_visit_gets_no_plan_bonus(customer, provider, lawn):
    job = booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=TODAY, scheduled_for=TODAY)
    completion = complete_job(job=job)
    assert not PointsEntry.objects.filter(type="plan_bonus").exists()
    assert completion.points_awarded == PointsEntry.objects.get(job=job, type="earn").points


def test_cancelling_a_completed_plan_visit_reverses_the_bonus_too(customer, provider, pool_plan):
    job = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY).visits.get().job
    complete_job(job=job, amount=Decimal("85.50"))
    cancel_job(job=job)
    assert PointsEntry.objects.get(job=job, type="reversal").points == -102
    assert LoyaltyAccount.objects.get(pk=customer.pk).points == 0


def test_a_plan_member_is_not_reminded_for_the_plans_service(customer, other_customer, provider, pool, pest_plan, service_types):
    pest = service_types["pest-control"]
    for who in (customer, other_customer):
        job_due_on(customer=who, service_type=pool, provider=provider, due_on=TODAY + dt.timedelta(days=2))
        job_due_on(customer=who, service_type=pest, provider=provider, due_on=TODAY + dt.timedelta(days=2))
    subscription = subscribe(customer=customer, plan_id=pest_plan.pk, start_date=TODAY + dt.timedelta(days=40))
    first_visit_done_long_ago(subscription)
    check_service_due(job_context())
    reminded = set(ServiceReminder.objects.values_list("customer_id", "job__service_type__slug"))
    # The member is still reminded of pool service, not pest control; the other of both.
    assert reminded == {
        (customer.pk, "pool-service"), (other_customer.pk, "pest-control"), (other_customer.pk, "pool-service")
    }
    # Once the plan is paused, the service is the customer's to remember again.
    pause(customer=customer, subscription_id=subscription.pk)
    check_service_due(job_context(TODAY + dt.timedelta(days=1)))
    assert (customer.pk, "pest-control") in set(ServiceReminder.objects.values_list("customer_id", "job__service_type__slug"))


def test_a_plan_member_is_not_won_back(customer, other_customer, provider, lawn, pest_plan):
    long_ago = TODAY - dt.timedelta(days=200)
    for who in (customer, other_customer):
        completed_job(customer=who, service_type=lawn, provider=provider, completed_on=long_ago)
    subscription = subscribe(customer=customer, plan_id=pest_plan.pk, start_date=TODAY + dt.timedelta(days=40))
    first_visit_done_long_ago(subscription)
    ctx = job_context()
    check_inactive_customers(ctx)
    assert set(WinbackSend.objects.values_list("customer_id", flat=True)) == {other_customer.pk}
    assert ctx.stats["skippedByReason"]["scheduledAhead"] == 1
    cancel_subscription(customer=customer, subscription_id=subscription.pk)
    check_inactive_customers(job_context(TODAY + dt.timedelta(days=1)))
    assert customer.pk in set(WinbackSend.objects.values_list("customer_id", flat=True))

"""Subscribing books the first visit at once, at the plan's discount, with a provider who
offers the service, and queues a confirmation email; bad input changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest

from outbox.models import OutboundEmail
from plans.actions import PlanError, PlanNotFound, subscribe
from plans.models import PlanVisit, Subscription, SubscriptionChange
from retention.models import Job
from tests.factories import ProviderFactory

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def test_subscribing_books_the_first_visit_at_the_plan_discount(customer, provider, pool_plan):
    start = TODAY + dt.timedelta(days=3)
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=start, by=customer.user)
    visit = PlanVisit.objects.select_related("job").get(subscription=subscription)
    job = visit.job
    assert (visit.scheduled_for, job.scheduled_for, job.status) == (start, start, Job.Status.SCHEDULED)
    assert job.provider == provider and job.service_type == pool_plan.service_type
    assert job.price == Decimal("95.00") and job.amount_paid == Decimal("85.50")  # 10% off
    # One email: the confirmation, which names the first visit (no "visit booked" as well).
    email = OutboundEmail.objects.get()
    assert email.idempotency_key == f"plan_subscribed/{subscription.pk}"
    assert email.kind == "transactional" and "Weekly pool care" in email.subject
    assert "Pro Lawn and Pool" in email.text_body and "$85.50" in email.text_body
    change = SubscriptionChange.objects.get(subscription=subscription)
    assert (change.action, change.changed_by) == ("subscribed", customer.user)


def test_only_a_provider_offering_the_service_is_booked(customer, service_types, pool_plan):
    ProviderFactory(business_name="Lawn Only", service_types=[service_types["lawn-care"]])
    pool_pro = ProviderFactory(business_name="Zed Pools", service_types=[service_types["pool-service"]])
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    assert subscription.visits.get().job.provider == pool_pro


def test_no_provider_free_that_day_books_the_next_day_with_one(customer, provider, pool_plan, settings):
    settings.PROVIDER_JOBS_PER_DAY = 1
    busy = TODAY + dt.timedelta(days=2)
    from tests.factories import JobFactory

    JobFactory(provider=provider, service_type=pool_plan.service_type, scheduled_for=busy)
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=busy)
    visit = subscription.visits.get()
    assert visit.scheduled_for == busy and visit.job.scheduled_for == busy + dt.timedelta(days=1)


def test_a_deactivated_provider_is_not_booked(customer, service_types, pool_plan):
    ProviderFactory(business_name="Aardvark Pools", user__is_active=False, service_types=[service_types["pool-service"]])
    pool_pro = ProviderFactory(business_name="Zed Pools", service_types=[service_types["pool-service"]])
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    assert subscription.visits.get().job.provider == pool_pro


def test_only_scheduled_jobs_fill_a_providers_day(customer, provider, pool_plan, settings):
    settings.PROVIDER_JOBS_PER_DAY = 1
    from tests.factories import JobFactory

    JobFactory(provider=provider, service_type=pool_plan.service_type, scheduled_for=TODAY, status=Job.Status.CANCELLED)
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    assert subscription.visits.get().job.scheduled_for == TODAY


def test_a_visits_price_rounds_half_a_cent_up():
    from plans.services import visit_price

    assert visit_price(list_price=Decimal("10.05"), discount_percent=10) == Decimal("9.05")  # 9.045
    assert visit_price(list_price=Decimal("10.15"), discount_percent=10) == Decimal("9.14")  # 9.135


def nothing_written():
    return (Subscription.objects.count(), Job.objects.count(), OutboundEmail.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize("plan_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_plan_is_refused_and_nothing_changes(customer, provider, plan_id):
    with pytest.raises(PlanNotFound):
        subscribe(customer=customer, plan_id=plan_id, start_date=TODAY)
    assert nothing_written()


def test_an_inactive_plan_is_refused(customer, provider, pool_plan):
    pool_plan.active = False
    pool_plan.save()
    with pytest.raises(PlanNotFound):
        subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    assert nothing_written()


def test_a_past_start_date_is_refused_and_nothing_changes(customer, provider, pool_plan):
    with pytest.raises(PlanError) as refused:
        subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY - dt.timedelta(days=1))
    assert refused.value.code == "invalid_date"
    assert nothing_written()


def test_no_provider_at_all_is_refused_and_nothing_changes(customer, pool_plan):
    with pytest.raises(PlanError) as refused:
        subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    assert refused.value.code == "no_provider"
    assert nothing_written()


def test_one_open_subscription_per_customer_and_plan(customer, provider, pool_plan):
    subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    with pytest.raises(PlanError) as refused:
        subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY + dt.timedelta(days=1))
    assert refused.value.code == "already_subscribed"
    assert Subscription.objects.count() == 1 and Job.objects.count() == 1


def test_the_database_refuses_a_second_open_subscription(customer, pool_plan):
    from django.db import IntegrityError, transaction

    Subscription.objects.create(customer=customer, plan=pool_plan, start_date=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(customer=customer, plan=pool_plan, start_date=TODAY, status="paused")

"""Skip, pause, resume and cancel: each one's effect on future visits, each idempotent,
and nothing changes on bad input or on another customer's subscription."""

import datetime as dt

import pytest

from plans.actions import PlanError, PlanNotFound, cancel_subscription, pause, resume, skip_visit, subscribe
from plans.models import SubscriptionChange
from plans.visits import schedule_plan_visits
from retention.models import Job

from .conftest import TODAY, job_context

pytestmark = pytest.mark.django_db


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def weekly(customer, provider, pool_plan):
    """Subscribed with a first visit in 2 days; the daily job has booked +9 and +16 (as of +2)."""
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=day(2))
    schedule_plan_visits(job_context())  # books +9 (within 14 days)
    return subscription


def scheduled_days(subscription) -> list[dt.date]:
    return sorted(
        Job.objects.filter(plan_visit__subscription=subscription, status="scheduled").values_list("scheduled_for", flat=True)
    )


def snapshot(subscription):
    subscription.refresh_from_db()
    return (
        subscription.status,
        sorted(subscription.visits.values_list("scheduled_for", "status", "job__status")),
        SubscriptionChange.objects.count(),
    )


class TestSkip:
    def test_skipping_cancels_the_next_visit_and_keeps_the_one_after(self, customer, weekly):
        assert scheduled_days(weekly) == [day(2), day(9)]
        skip_visit(customer=customer, subscription_id=weekly.pk, visit_date=day(2))
        assert scheduled_days(weekly) == [day(9)]
        skipped = weekly.visits.get(scheduled_for=day(2))
        assert skipped.status == "skipped" and skipped.job.status == "cancelled"

    def test_skipping_books_the_one_after_when_it_is_not_booked_yet(self, customer, provider, pest_plan):
        subscription = subscribe(customer=customer, plan_id=pest_plan.pk, start_date=day(5))
        skip_visit(customer=customer, subscription_id=subscription.pk)
        assert scheduled_days(subscription) == [day(95)]

    def test_skipping_the_same_visit_twice_changes_nothing_more(self, customer, weekly):
        skip_visit(customer=customer, subscription_id=weekly.pk, visit_date=day(2))
        before = snapshot(weekly)
        skip_visit(customer=customer, subscription_id=weekly.pk, visit_date=day(2))
        assert snapshot(weekly) == before

    def test_the_daily_job_follows_a_skipped_visit(self, customer, weekly):
        skip_visit(customer=customer, subscription_id=weekly.pk, visit_date=day(2))
        schedule_plan_visits(job_context(day(2)))
        assert scheduled_days(weekly) == [day(9), day(16)]

    def test_a_date_with_no_visit_is_refused(self, customer, weekly):
        before = snapshot(weekly)
        with pytest.raises(PlanError) as refused:
            skip_visit(customer=customer, subscription_id=weekly.pk, visit_date=day(3))
        assert refused.value.code == "invalid_date" and snapshot(weekly) == before


class TestPause:
    def test_pausing_calls_off_future_visits_and_the_job_books_nothing(self, customer, weekly):
        pause(customer=customer, subscription_id=weekly.pk)
        assert scheduled_days(weekly) == []
        assert set(weekly.visits.values_list("status", flat=True)) == {"called_off"}
        ctx = job_context(day(7))
        schedule_plan_visits(ctx)
        assert ctx.stats["booked"] == 0 and scheduled_days(weekly) == []

    def test_pausing_twice_changes_nothing_more(self, customer, weekly):
        pause(customer=customer, subscription_id=weekly.pk)
        before = snapshot(weekly)
        pause(customer=customer, subscription_id=weekly.pk)
        assert snapshot(weekly) == before

    def test_resuming_books_the_next_visits_again(self, customer, weekly):
        pause(customer=customer, subscription_id=weekly.pk)
        resume(customer=customer, subscription_id=weekly.pk)
        # The called-off dates are free again: +2 and +9 are booked anew (+16 is past the horizon).
        assert scheduled_days(weekly) == [day(2), day(9)]
        before = snapshot(weekly)
        resume(customer=customer, subscription_id=weekly.pk)
        assert snapshot(weekly) == before

    def test_resuming_later_moves_past_the_days_gone(self, customer, weekly):
        pause(customer=customer, subscription_id=weekly.pk)
        import time_machine
        from django.utils import timezone

        with time_machine.travel(timezone.make_aware(dt.datetime.combine(day(20), dt.time(12))), tick=True):
            resume(customer=customer, subscription_id=weekly.pk)
        assert scheduled_days(weekly) == [day(23), day(30)]


class TestCancel:
    def test_cancelling_calls_off_future_visits_for_good(self, customer, weekly):
        cancel_subscription(customer=customer, subscription_id=weekly.pk)
        weekly.refresh_from_db()
        assert weekly.status == "cancelled" and weekly.cancelled_at is not None
        assert scheduled_days(weekly) == []
        schedule_plan_visits(job_context(day(7)))
        assert scheduled_days(weekly) == []
        before = snapshot(weekly)
        cancel_subscription(customer=customer, subscription_id=weekly.pk)
        assert snapshot(weekly) == before

    @pytest.mark.parametrize("action", [pause, resume, skip_visit])
    def test_a_cancelled_plan_refuses_other_changes(self, customer, weekly, action):
        cancel_subscription(customer=customer, subscription_id=weekly.pk)
        before = snapshot(weekly)
        with pytest.raises(PlanError):
            action(customer=customer, subscription_id=weekly.pk)
        assert snapshot(weekly) == before

    def test_subscribing_again_after_cancelling_is_allowed(self, customer, pool_plan, weekly):
        cancel_subscription(customer=customer, subscription_id=weekly.pk)
        again = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=day(3))
        assert again.pk != weekly.pk and scheduled_days(again) == [day(3)]


@pytest.mark.parametrize("action", [skip_visit, pause, resume, cancel_subscription])
def test_another_customers_subscription_is_not_found_and_unchanged(other_customer, weekly, action):
    before = snapshot(weekly)
    with pytest.raises(PlanNotFound):
        action(customer=other_customer, subscription_id=weekly.pk)
    with pytest.raises(PlanNotFound):
        action(customer=other_customer, subscription_id="not-an-id")
    assert snapshot(weekly) == before


def test_each_change_is_recorded_with_who_and_when(customer, weekly):
    pause(customer=customer, subscription_id=weekly.pk, by=customer.user)
    resume(customer=customer, subscription_id=weekly.pk, by=customer.user)
    changes = list(weekly.changes.order_by("changed_at", "id").values_list("action", "changed_by"))
    assert changes == [("subscribed", None), ("paused", customer.user.pk), ("resumed", customer.user.pk)]
    assert all(c.changed_at for c in weekly.changes.all())


def test_skipping_a_visit_not_booked_yet_twice_skips_it_once(customer, provider, pest_plan):
    subscription = subscribe(customer=customer, plan_id=pest_plan.pk, start_date=day(1))
    skip_visit(customer=customer, subscription_id=subscription.pk, visit_date=day(91))
    before = snapshot(subscription)
    skip_visit(customer=customer, subscription_id=subscription.pk, visit_date=day(91))
    assert snapshot(subscription) == before
    assert scheduled_days(subscription) == [day(1), day(181)]

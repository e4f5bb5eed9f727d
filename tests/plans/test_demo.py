"""seed_demo: two plans, and the demo customer on one with a visit scheduled; again, nothing changes."""

import pytest
from django.core.management import call_command

from plans.models import Plan, PlanVisit, Subscription

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_two_plans_and_an_active_subscription_with_a_visit():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert Plan.objects.filter(active=True).count() == 2
    subscription = Subscription.objects.get(customer__user__email="demo@example.com")
    assert subscription.status == "active"
    visit = PlanVisit.objects.get(subscription=subscription)
    assert visit.job.status == "scheduled" and visit.job.provider.user.email == "provider@example.com"
    assert visit.job.amount_paid < visit.job.price

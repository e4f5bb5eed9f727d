"""seed_demo's loyalty part: six rewards and a history that shows every part of the page."""

from django.core.management import call_command

from loyalty.models import LoyaltyAccount, PointsEntry, Redemption, Reward
from retention.models import Customer

from .conftest import assert_ledger_consistent


def test_seed_demo_gives_six_rewards_and_a_balance_that_affords_some_but_not_all(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # idempotent
    assert Reward.objects.filter(active=True).count() == 6
    demo = Customer.objects.get(user__email="demo@example.com")
    account = assert_ledger_consistent(demo)
    costs = list(Reward.objects.values_list("points_cost", flat=True))
    assert any(cost <= account.points for cost in costs)
    assert any(cost > account.points for cost in costs)
    types = set(PointsEntry.objects.filter(account=account).values_list("type", flat=True))
    assert {"earn", "redeem", "adjustment"} <= types
    completed = demo.jobs.filter(status="completed")
    assert PointsEntry.objects.filter(job__in=completed, type="earn").count() == completed.count()
    assert Redemption.objects.filter(account=account).count() == 1
    assert LoyaltyAccount.objects.count() == 1

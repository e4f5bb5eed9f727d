"""seed_demo: the demo customer has one rewarded and one joined referral, and the
referral bonus in their history is a real referral ledger line."""

from django.core.management import call_command

from loyalty.models import PointsEntry
from referrals.models import Referral, ReferralReward
from retention.models import Customer
from tests.loyalty.conftest import assert_ledger_consistent


def test_seed_demo_gives_a_rewarded_and_a_joined_referral(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # idempotent
    demo = Customer.objects.get(user__email="demo@example.com")
    statuses = dict(Referral.objects.filter(advocate=demo).values_list("friend__user__email", "status"))
    assert statuses == {"neighbor@example.com": "rewarded", "jo@example.com": "joined"}
    assert ReferralReward.objects.count() == 1
    lines = PointsEntry.objects.filter(account_id=demo.pk, type="referral")
    assert [line.points for line in lines] == [500]
    assert not PointsEntry.objects.filter(description__icontains="referring").exclude(type="referral").exists()
    account = assert_ledger_consistent(demo)
    assert account.lifetime_points == 534  # the referral is balance only

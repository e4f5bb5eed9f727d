"""Earning points on job completion, tier bonuses and upgrades, and reversal on cancellation."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from actions.jobs import cancel_job, complete_job
from loyalty.models import TIER_UPGRADE_NOTICE, LoyaltyAccount, PointsEntry, TierUpgrade
from loyalty.services import redeem_reward
from loyalty.tiers import tier_for
from outbox.models import OutboundEmail
from retention.models import Notification
from tests.factories import JobFactory, RewardFactory

from .conftest import assert_ledger_consistent

Type = PointsEntry.Type


def entries(customer):
    return list(
        PointsEntry.objects.filter(account_id=customer.pk).order_by("id").values_list("type", "points")
    )


def test_a_job_paying_99_99_earns_99_base_points(customer, complete):
    completion = complete(customer, "99.99")
    assert completion.points_awarded == 99
    assert entries(customer) == [(Type.EARN, 99)]
    account = assert_ledger_consistent(customer)
    assert (account.points, account.lifetime_points, account.tier) == (99, 99, "bronze")


def test_the_earn_line_names_the_job(customer, complete):
    job = complete(customer, "65.00").job
    entry = PointsEntry.objects.get(account_id=customer.pk)
    assert entry.job_id == job.pk
    assert "Lawn Care" in entry.description


def test_a_silver_customers_200_dollar_job_earns_200_plus_a_10_point_bonus(customer, complete):
    complete(customer, "1000.00")
    assert LoyaltyAccount.objects.get(pk=customer.pk).tier == "silver"
    completion = complete(customer, "200.00")
    assert completion.points_awarded == 210
    assert entries(customer)[-2:] == [(Type.EARN, 200), (Type.TIER_BONUS, 10)]
    account = assert_ledger_consistent(customer)
    assert (account.points, account.lifetime_points) == (1210, 1210)


def test_crossing_1000_uses_the_bronze_multiplier_and_upgrades_once(customer, complete):
    complete(customer, "900.00")
    emails_before = OutboundEmail.objects.count()
    completion = complete(customer, "150.00")
    # Bronze (1.00x) held before this job: no bonus line.
    assert completion.points_awarded == 150
    assert entries(customer) == [(Type.EARN, 900), (Type.EARN, 150)]
    account = assert_ledger_consistent(customer)
    assert (account.lifetime_points, account.tier) == (1050, "silver")

    upgrade = TierUpgrade.objects.get(account=account)
    assert (upgrade.from_tier, upgrade.to_tier, upgrade.job_id) == ("bronze", "silver", completion.job.pk)
    notes = Notification.objects.filter(customer=customer, kind=TIER_UPGRADE_NOTICE)
    assert notes.count() == 1 and "Silver" in notes.get().title
    email = OutboundEmail.objects.get(template="loyalty_tier_upgrade")
    assert OutboundEmail.objects.count() == emails_before + 1
    assert email.kind == OutboundEmail.Kind.TRANSACTIONAL
    assert email.idempotency_key == f"tier_upgrade/{upgrade.pk}"
    assert email.to_email == customer.email
    assert "Silver" in email.subject and "1.05x" in email.text_body and "1.05x" in email.html_body

    # Completing again and earning more within Silver sends nothing new.
    complete_job(job=completion.job)
    complete(customer, "100.00")
    assert TierUpgrade.objects.count() == 1
    assert notes.count() == 1
    assert OutboundEmail.objects.filter(template="loyalty_tier_upgrade").count() == 1


@pytest.mark.parametrize(
    ("lifetime", "tier"), [(999, "bronze"), (1000, "silver"), (2499, "silver"), (2500, "gold"), (4999, "gold"), (5000, "platinum")]
)
def test_tier_thresholds(customer, complete, lifetime, tier):
    assert tier_for(lifetime).key == tier
    complete(customer, f"{lifetime}.00")
    account = assert_ledger_consistent(customer)
    assert (account.lifetime_points, account.tier) == (lifetime, tier)
    assert TierUpgrade.objects.filter(account=account).exists() == (tier != "bronze")


@pytest.mark.parametrize(("tier_points", "amount", "bonus"), [(2500, "100.00", 10), (5000, "100.00", 15), (5000, "99.00", 14)])
def test_gold_and_platinum_bonuses(customer, complete, tier_points, amount, bonus):
    complete(customer, f"{tier_points}.00")
    assert complete(customer, amount).points_awarded == int(Decimal(amount)) + bonus


def test_jumping_two_tiers_at_once_is_one_upgrade(customer, complete):
    complete(customer, "3000.00")
    upgrade = TierUpgrade.objects.get()
    assert (upgrade.from_tier, upgrade.to_tier) == ("bronze", "gold")
    assert Notification.objects.filter(kind=TIER_UPGRADE_NOTICE).count() == 1


def test_a_job_paid_in_full_by_voucher_earns_nothing_and_says_so(customer, complete):
    assert complete(customer, "0.00").points_awarded == 0
    assert entries(customer) == []


def test_completion_sent_twice_earns_once(customer, provider, lawn):
    job = JobFactory(customer=customer, provider=provider, service_type=lawn)
    first = complete_job(job=job, amount=Decimal("120.00"))
    second = complete_job(job=job, amount=Decimal("130.00"))
    assert first.points_awarded == second.points_awarded == 120
    assert entries(customer) == [(Type.EARN, 120)]
    assert_ledger_consistent(customer)


def test_awarding_a_jobs_points_twice_earns_once(customer, complete):
    """award_job_points itself refuses a second earn for the same job (the guard, not
    only complete_job's state check)."""
    from django.db import transaction

    from loyalty.services import award_job_points

    job = complete(customer, "120.00").job
    with transaction.atomic():
        again = award_job_points(job=job)
    assert again == 120
    assert entries(customer) == [(Type.EARN, 120)]
    assert_ledger_consistent(customer)


def test_the_patch_endpoint_reports_points_awarded_each_time(provider_client, provider, customer, lawn):
    job = JobFactory(customer=customer, provider=provider, service_type=lawn, price=Decimal("149.00"))
    url = f"/api/provider/jobs/{job.pk}"
    body = json.dumps({"status": "completed", "amount": "149.00"})
    first = provider_client.patch(url, body, content_type="application/json")
    second = provider_client.patch(url, body, content_type="application/json")
    assert first.status_code == second.status_code == 200
    assert first.json()["pointsAwarded"] == second.json()["pointsAwarded"] == 149
    assert entries(customer) == [(Type.EARN, 149)]


def test_cancelling_a_completed_job_reverses_its_points(customer, complete):
    complete(customer, "1000.00")
    job = complete(customer, "200.00").job  # 200 + 10 Silver bonus
    cancel_job(job=job)
    cancel_job(job=job)  # again: nothing more
    assert entries(customer)[-1] == (Type.REVERSAL, -210)
    assert PointsEntry.objects.filter(job=job, type=Type.REVERSAL).count() == 1
    account = assert_ledger_consistent(customer)
    assert (account.points, account.lifetime_points, account.tier) == (1000, 1000, "silver")


def test_a_reversal_never_takes_the_balance_below_zero_and_says_what_was_spent(customer, complete):
    reward = RewardFactory(points_cost=100)
    job = complete(customer, "150.00").job
    redeem_reward(customer=customer, reward_id=reward.pk)
    cancel_job(job=job)
    reversal = PointsEntry.objects.get(job=job, type=Type.REVERSAL)
    assert reversal.points == -50
    assert "100 already spent could not be reversed" in reversal.description
    account = assert_ledger_consistent(customer)
    assert (account.points, account.lifetime_points) == (0, 100)


def test_a_reversal_can_lower_the_tier(customer, complete):
    job = complete(customer, "1200.00").job
    cancel_job(job=job)
    account = assert_ledger_consistent(customer)
    assert account.tier == "bronze"


def test_cancelling_a_scheduled_job_writes_no_ledger_line(customer, provider, lawn):
    cancel_job(job=JobFactory(customer=customer, provider=provider, service_type=lawn))
    assert PointsEntry.objects.count() == 0


def test_next_tier_is_the_one_above_and_none_above_platinum():
    from loyalty.tiers import TIERS, next_tier

    assert [next_tier(tier) for tier in TIERS] == [*TIERS[1:], None]


def test_a_job_completed_earlier_earns_as_of_its_completion(customer, provider, lawn, complete):
    """The earn and tier-bonus lines are dated when the job was completed (a completion
    recorded late, or points awarded afterwards), and the account says when it changed."""
    from django.utils import timezone

    from loyalty.services import award_job_points

    complete(customer, "1000.00")  # Silver
    before = LoyaltyAccount.objects.get(pk=customer.pk).updated_at
    done_at = timezone.now() - dt.timedelta(days=3)
    job = JobFactory(customer=customer, provider=provider, service_type=lawn, price=Decimal("200.00"),
                     status="completed", completed_at=done_at, amount_paid=Decimal("200.00"),
                     next_due_date=dt.date(2027, 1, 1))

    assert award_job_points(job=job) == 210

    lines = PointsEntry.objects.filter(job=job).order_by("id")
    assert [(e.type, e.created_at, e.description) for e in lines] == [
        (Type.EARN, done_at, "Lawn Care completed ($200.00)"),
        (Type.TIER_BONUS, done_at, "Silver tier bonus (1.05x) on Lawn Care"),
    ]
    assert LoyaltyAccount.objects.get(pk=customer.pk).updated_at > before


def test_a_job_that_earned_nothing_reverses_nothing(customer, complete, grant):
    from loyalty.services import reverse_job_points

    grant(customer, 40)
    free = complete(customer, "0.00")
    again = complete_job(job=free.job, amount=Decimal("0.00"))
    assert free.points_awarded == again.points_awarded == 0

    cancel_job(job=free.job)

    assert reverse_job_points(job=free.job) == 0
    assert not PointsEntry.objects.filter(type=Type.REVERSAL).exists()
    assert LoyaltyAccount.objects.get(pk=customer.pk).points == 40


def test_reversing_twice_reverses_once_and_each_job_is_reversed(customer, complete):
    """reverse_job_points itself refuses a second reversal of the same job (the guard,
    not only cancel_job's status check), and one job's reversal does not stop another's."""
    from loyalty.services import reverse_job_points

    first, second = complete(customer, "100.00").job, complete(customer, "50.00").job
    cancel_job(job=first)
    assert reverse_job_points(job=first) == 0
    cancel_job(job=second)

    assert sorted(PointsEntry.objects.filter(type=Type.REVERSAL).values_list("points", flat=True)) == [-100, -50]
    assert LoyaltyAccount.objects.get(pk=customer.pk).points == 0

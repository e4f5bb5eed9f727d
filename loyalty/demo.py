"""Demo data for loyalty: six rewards and the demo customer's points history.

Idempotent: rewards have fixed UUIDs; points are awarded through the real
services, which never award a job twice, and the demo redemption and
adjustment happen only once.
"""

import uuid
from decimal import Decimal

from retention.models import Customer, Job, ServiceType, User

from .models import PointsEntry, Reward
from .services import adjust_points, award_job_points, redeem_reward

REWARD_NAMESPACE = uuid.UUID("0b6f2c5e-4a1e-4c52-9f7e-6d1c8a3b2e90")
AMOUNT_OFF, PERCENT_OFF, FREE = Reward.RewardType.AMOUNT_OFF, Reward.RewardType.PERCENT_OFF, Reward.RewardType.FREE_SERVICE

# key, name, description, cost, type, value, free service slug
REWARDS = [
    ("10-off", "$10 off any service", "Take $10 off your next booking of any service.", 100, AMOUNT_OFF, "10", None),
    ("15-percent", "15% off any service", "Save 15% on your next booking, whatever the service.", 250, PERCENT_OFF, "15", None),
    ("free-lawn", "Free lawn care visit", "One standard lawn care visit on us.", 400, FREE, "65", "lawn-care"),
    ("50-off", "$50 off any service", "Take $50 off your next booking of any service.", 600, AMOUNT_OFF, "50", None),
    ("free-pest", "Free pest control treatment", "A full pest control treatment on us.", 1000, FREE, "120", "pest-control"),
    ("free-hvac", "Free HVAC tune-up", "A seasonal HVAC tune-up on us.", 1500, FREE, "189", "hvac"),
]


def seed_rewards(types: dict[str, ServiceType]) -> dict[str, Reward]:
    rewards = {}
    for key, name, description, cost, kind, value, slug in REWARDS:
        reward, _ = Reward.objects.get_or_create(
            pk=uuid.uuid5(REWARD_NAMESPACE, key),
            defaults={
                "name": name,
                "description": description,
                "points_cost": cost,
                "reward_type": kind,
                "reward_value": Decimal(value),
                "service_type": types[slug] if slug else None,
            },
        )
        rewards[key] = reward
    return rewards


def seed_points_history(*, customer: Customer, rewards: dict[str, Reward], staff: User) -> None:
    """Points for each completed demo job, one staff goodwill grant and one
    redemption: 534 earned + 50 granted - 100 redeemed = 484 (the referrals demo then
    adds a real 500-point referral reward)."""
    completed = customer.jobs.filter(status=Job.Status.COMPLETED).select_related("service_type")
    for job in completed.order_by("completed_at"):
        award_job_points(job=job)
    entries = PointsEntry.objects.filter(account_id=customer.pk)
    if not entries.filter(type=PointsEntry.Type.ADJUSTMENT).exists():
        adjust_points(customer=customer, points=50, reason="Goodwill: sorry for the rescheduled visit", staff=staff)
    if not entries.filter(type=PointsEntry.Type.REDEEM).exists():
        redeem_reward(customer=customer, reward_id=rewards["10-off"].pk)


def seed_loyalty(types: dict[str, ServiceType], people: dict) -> None:
    rewards = seed_rewards(types)
    seed_points_history(customer=people["customer"], rewards=rewards, staff=people["admin"])

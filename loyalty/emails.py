"""The loyalty program's emails: one function builds each email's context, called by
the real send (loyalty.services) and by the staff preview (the samples below)."""

import datetime as dt
from decimal import Decimal

from outbox.consent import Kind
from outbox.preview import SAMPLE_TODAY, Sample, register_sample
from retention.clock import start_of_business_day
from retention.links import absolute_url, booking_url
from retention.models import PromoCode, ServiceType

from .models import Reward
from .tiers import TIERS_BY_KEY, Tier

REWARDS_URL = "/customer-portal/rewards/"
TIER_UPGRADE_TEMPLATE = "loyalty_tier_upgrade"
REDEMPTION_TEMPLATE = "loyalty_redemption"


def tier_upgrade_context(*, held: Tier, reached: Tier) -> dict:
    return {"from_tier": held, "tier": reached, "rewards_url": absolute_url(REWARDS_URL)}


def redemption_context(*, reward: Reward, voucher: PromoCode, points: int) -> dict:
    return {
        "reward": reward,
        "voucher": voucher,
        "points": points,
        "rewards_url": absolute_url(REWARDS_URL),
        "book_url": booking_url(
            # Preselect the service only when the voucher is limited to it.
            service=reward.service_type if reward.reward_type == Reward.RewardType.FREE_SERVICE else None,
            code=voucher.code,
            absolute=True,
        ),
    }


def tier_upgrade_sample() -> Sample:
    held, reached = TIERS_BY_KEY["silver"], TIERS_BY_KEY["gold"]
    return Sample(
        tier_upgrade_context(held=held, reached=reached),
        key_values=(held.name, reached.name, f"{reached.multiplier}x", absolute_url(REWARDS_URL)),
    )


def redemption_sample() -> Sample:
    lawn = ServiceType(name="Lawn Care", slug="lawn-care")
    reward = Reward(
        name="Free lawn mowing", points_cost=1500, reward_type=Reward.RewardType.FREE_SERVICE,
        reward_value=Decimal("100.00"), service_type=lawn,
    )
    voucher = PromoCode(
        code="VCH4RW9TQ2ZD", discount_type=PromoCode.DiscountType.AMOUNT, discount_value=Decimal("100.00"),
        expires_at=start_of_business_day(SAMPLE_TODAY + dt.timedelta(days=90)),
    )
    context = redemption_context(reward=reward, voucher=voucher, points=1140)
    return Sample(
        context,
        key_values=(reward.name, "1500", voucher.code, voucher.label, "Lawn Care", "1140", context["book_url"]),
    )


def register_samples() -> None:
    register_sample(TIER_UPGRADE_TEMPLATE, Kind.TRANSACTIONAL, tier_upgrade_sample)
    register_sample(REDEMPTION_TEMPLATE, Kind.TRANSACTIONAL, redemption_sample)

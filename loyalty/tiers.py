"""The loyalty tiers: thresholds in lifetime points and their earning multipliers."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Tier:
    key: str
    name: str
    threshold: int
    multiplier: Decimal
    emoji: str


TIERS = (
    Tier("bronze", "Bronze", 0, Decimal("1.00"), "🥉"),
    Tier("silver", "Silver", 1_000, Decimal("1.05"), "🥈"),
    Tier("gold", "Gold", 2_500, Decimal("1.10"), "🥇"),
    Tier("platinum", "Platinum", 5_000, Decimal("1.15"), "💎"),
)
TIERS_BY_KEY = {tier.key: tier for tier in TIERS}
TIER_CHOICES = [(tier.key, tier.name) for tier in TIERS]


def tier_for(lifetime_points: int) -> Tier:
    held = TIERS[0]
    for tier in TIERS:
        if lifetime_points >= tier.threshold:
            held = tier
    return held


def next_tier(tier: Tier) -> Tier | None:
    index = TIERS.index(tier)
    return TIERS[index + 1] if index + 1 < len(TIERS) else None

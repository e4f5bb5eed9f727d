"""Reads of the loyalty program for the rewards page, the dashboard widget and the
API, each a fixed number of queries however long the ledger grows."""

from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q
from django.utils import timezone

from retention.models import Customer, PromoCode

from .models import VOUCHER_SOURCE, LoyaltyAccount, PointsEntry, Reward
from .tiers import TIERS_BY_KEY, Tier, next_tier, tier_for

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class LoyaltySummary:
    points: int
    lifetime_points: int
    tier: Tier
    next_tier: Tier | None
    points_needed: int
    progress_percent: int


def summarize(account: LoyaltyAccount | None) -> LoyaltySummary:
    """Balance, tier and progress to the next tier (no account yet: all zero, Bronze)."""
    points = account.points if account else 0
    lifetime = account.lifetime_points if account else 0
    tier = TIERS_BY_KEY[account.tier] if account else tier_for(0)
    upcoming = next_tier(tier)
    if upcoming is None:
        return LoyaltySummary(points, lifetime, tier, None, 0, 100)
    span = upcoming.threshold - tier.threshold
    done = min(max(lifetime - tier.threshold, 0), span)
    return LoyaltySummary(
        points=points,
        lifetime_points=lifetime,
        tier=tier,
        next_tier=upcoming,
        points_needed=max(upcoming.threshold - lifetime, 0),
        progress_percent=done * 100 // span,
    )


def loyalty_summary(*, customer: Customer) -> LoyaltySummary:
    """One query."""
    return summarize(LoyaltyAccount.objects.filter(pk=customer.pk).first())


def recent_entries(*, customer: Customer, limit: int = HISTORY_LIMIT) -> list[PointsEntry]:
    """The newest ledger lines, newest first (one query)."""
    return list(PointsEntry.objects.filter(account_id=customer.pk).order_by("-created_at", "-id")[:limit])


def active_rewards() -> list[Reward]:
    """Active rewards, cheapest first (one query)."""
    return list(Reward.objects.filter(active=True).select_related("service_type").order_by("points_cost", "name"))


def unused_vouchers(*, customer: Customer) -> list[PromoCode]:
    """The customer's loyalty vouchers not yet used and not expired, soonest to expire
    first, each with `covered_names`: the names of the services it is limited to, in
    name order (empty for any service). One query: the names are aggregated into an
    array, so the page costs the same with no vouchers or many."""
    return list(
        PromoCode.objects.filter(
            customer=customer, source=VOUCHER_SOURCE, used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .annotate(
            covered_names=ArrayAgg(
                "service_types__name", filter=Q(service_types__isnull=False), order_by="service_types__name", default=[]
            )
        )
        .order_by("expires_at", "code")
    )

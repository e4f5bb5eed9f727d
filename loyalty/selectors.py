"""Reads of the loyalty program for the rewards page, the dashboard widget and the
API, each a fixed number of queries however long the ledger grows."""

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, QuerySet
from django.utils import timezone

from retention.compiled import CompiledQuery, columns
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


# The reads below are compiled to SQL once per process (retention.compiled): each is a
# small query that cost Django more to build and compile than PostgreSQL to run, and
# the rewards page makes four of them on every view.
ACCOUNT_COLUMNS, ENTRY_COLUMNS, REWARD_COLUMNS, PROMO_COLUMNS = (
    columns(model) for model in (LoyaltyAccount, PointsEntry, Reward, PromoCode)
)
ACCOUNT = CompiledQuery(lambda *, id, day: LoyaltyAccount.objects.filter(pk=id).values_list(*ACCOUNT_COLUMNS))


def loyalty_summary(*, customer: Customer) -> LoyaltySummary:
    """One query."""
    rows = ACCOUNT.rows(id=customer.pk)
    return summarize(LoyaltyAccount.from_db(DEFAULT_DB_ALIAS, ACCOUNT_COLUMNS, rows[0]) if rows else None)


@cache
def _newest_entries(limit: int) -> CompiledQuery:
    return CompiledQuery(
        lambda *, id, day: PointsEntry.objects.filter(account_id=id)
        .order_by("-created_at", "-id")
        .values_list(*ENTRY_COLUMNS)[:limit]
    )


def recent_entries(*, customer: Customer, limit: int = HISTORY_LIMIT) -> list[PointsEntry]:
    """The newest ledger lines, newest first (one query)."""
    return [
        PointsEntry.from_db(DEFAULT_DB_ALIAS, ENTRY_COLUMNS, row)
        for row in _newest_entries(limit).rows(id=customer.pk)
    ]


ACTIVE_REWARDS = CompiledQuery(
    lambda *, id, day: Reward.objects.filter(active=True).order_by("points_cost", "name").values_list(*REWARD_COLUMNS)
)


def active_rewards() -> list[Reward]:
    """Active rewards, cheapest first (one query)."""
    return [Reward.from_db(DEFAULT_DB_ALIAS, REWARD_COLUMNS, row) for row in ACTIVE_REWARDS.rows()]


def unused_vouchers_query(*, id: int, day: dt.date, now: dt.datetime) -> QuerySet:
    """Customer `id`'s loyalty vouchers unused and unexpired at `now`, soonest to expire
    first, with the names of the service types each is limited to, in name order."""
    return (
        PromoCode.objects.filter(customer_id=id, source=VOUCHER_SOURCE, used_at__isnull=True, expires_at__gt=now)
        .annotate(
            covered_names=ArrayAgg(
                "service_types__name", filter=Q(service_types__isnull=False), order_by="service_types__name", default=[]
            )
        )
        .order_by("expires_at", "code")
        .values_list(*PROMO_COLUMNS, "covered_names")
    )


UNUSED_VOUCHERS = CompiledQuery(unused_vouchers_query, uses_now=True)


def unused_vouchers(*, customer: Customer) -> list[PromoCode]:
    """The customer's loyalty vouchers not yet used and not expired, soonest to expire
    first, each with `covered_names`: the names of the services it is limited to, in
    name order (empty for any service). One query: the names are aggregated into an
    array, so the page costs the same with no vouchers or many."""
    vouchers = []
    for *row, names in UNUSED_VOUCHERS.rows(id=customer.pk, now=timezone.now()):
        voucher = PromoCode.from_db(DEFAULT_DB_ALIAS, PROMO_COLUMNS, row)
        voucher.covered_names = names
        vouchers.append(voucher)
    return vouchers

"""The customer's loyalty program over JSON: balance and history, rewards, redeeming."""

import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from retention.api import ERROR_RESPONSES, WRITE_ERROR_RESPONSES, ApiError, customer_auth

from .selectors import active_rewards, loyalty_summary, recent_entries
from .services import InsufficientPoints, RewardNotFound, redeem_reward

router = Router(tags=["loyalty"], auth=customer_auth)


class TierOut(Schema):
    key: str
    name: str
    multiplier: float


class NextTierOut(Schema):
    key: str
    name: str
    threshold: int
    pointsNeeded: int


class TransactionOut(Schema):
    id: int
    points: int
    type: str
    description: str
    createdAt: str
    jobId: str | None


class LoyaltyOut(Schema):
    points: int
    lifetimePoints: int
    tier: TierOut
    nextTier: NextTierOut | None
    progressPercent: int
    transactions: list[TransactionOut]


class RewardOut(Schema):
    id: str
    name: str
    description: str
    pointsCost: int
    rewardType: str
    rewardValue: str
    affordable: bool


class RewardsOut(Schema):
    rewards: list[RewardOut]


class RedeemIn(Schema):
    rewardId: uuid.UUID


class RedemptionOut(Schema):
    id: str
    rewardId: str
    pointsSpent: int
    voucherCode: str
    expiresAt: str


class RedeemOut(Schema):
    success: bool
    points: int
    redemption: RedemptionOut


@router.get("/loyalty", response={200: LoyaltyOut, **ERROR_RESPONSES})
def loyalty(request: HttpRequest):
    """Balance, lifetime points, tier, progress to the next tier and the 50 newest
    ledger lines (newest first)."""
    summary = loyalty_summary(customer=request.customer)
    upcoming = summary.next_tier
    return {
        "points": summary.points,
        "lifetimePoints": summary.lifetime_points,
        "tier": {"key": summary.tier.key, "name": summary.tier.name, "multiplier": float(summary.tier.multiplier)},
        "nextTier": (
            {
                "key": upcoming.key,
                "name": upcoming.name,
                "threshold": upcoming.threshold,
                "pointsNeeded": summary.points_needed,
            }
            if upcoming
            else None
        ),
        "progressPercent": summary.progress_percent,
        "transactions": [
            {
                "id": entry.id,
                "points": entry.points,
                "type": entry.type,
                "description": entry.description,
                "createdAt": entry.created_at.isoformat(),
                "jobId": str(entry.job_id) if entry.job_id else None,
            }
            for entry in recent_entries(customer=request.customer)
        ],
    }


@router.get("/loyalty/rewards", response={200: RewardsOut, **ERROR_RESPONSES})
def rewards(request: HttpRequest):
    """Active rewards, cheapest first, each saying whether the balance covers it."""
    points = loyalty_summary(customer=request.customer).points
    return {
        "rewards": [
            {
                "id": str(reward.id),
                "name": reward.name,
                "description": reward.description,
                "pointsCost": reward.points_cost,
                "rewardType": reward.reward_type,
                "rewardValue": str(reward.reward_value),
                "affordable": points >= reward.points_cost,
            }
            for reward in active_rewards()
        ]
    }


@router.post("/loyalty/redeem", response={200: RedeemOut, **WRITE_ERROR_RESPONSES})
def redeem(request: HttpRequest, payload: RedeemIn):
    """Spends points on a reward and returns the voucher code; all or nothing.
    404 `reward_not_found` (unknown or inactive), 400 `insufficient_points`."""
    try:
        result = redeem_reward(customer=request.customer, reward_id=payload.rewardId)
    except RewardNotFound as exc:
        raise ApiError(404, "reward_not_found", str(exc)) from None
    except InsufficientPoints as exc:
        raise ApiError(400, "insufficient_points", str(exc)) from None
    redemption = result.redemption
    return {
        "success": True,
        "points": result.points,
        "redemption": {
            "id": str(redemption.id),
            "rewardId": str(redemption.reward_id),
            "pointsSpent": redemption.points_spent,
            "voucherCode": redemption.voucher.code,
            "expiresAt": redemption.voucher.expires_at.isoformat(),
        },
    }

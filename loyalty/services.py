"""Loyalty business rules: earning on job completion, reversing on cancellation,
redeeming rewards for vouchers, and staff adjustments.

Every change to an account is one UPDATE with F() expressions that also
recomputes the tier from lifetime points, plus the ledger line(s) explaining it,
in the caller's transaction. The balance is never read, changed in Python and
written back. Deductions are conditional (`points__gte=cost`) and the database
refuses a negative balance (loyalty_points_not_negative).
"""

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone

from outbox.compose import queue_email
from outbox.consent import Kind
from retention.clock import business_today
from retention.models import Customer, Job, PromoCode, User
from retention.notifications import notify
from retention.promo import code_expiry, issue_promo_code

from .emails import (
    REDEMPTION_TEMPLATE,
    REWARDS_URL,
    TIER_UPGRADE_TEMPLATE,
    redemption_context,
    tier_upgrade_context,
)
from .models import (
    REDEMPTION_NOTICE,
    TIER_UPGRADE_NOTICE,
    VOUCHER_SOURCE,
    LoyaltyAccount,
    PointsEntry,
    Redemption,
    Reward,
    TierUpgrade,
)
from .tiers import TIERS, TIERS_BY_KEY, Tier, tier_for

Type = PointsEntry.Type


class LoyaltyError(Exception):
    """A loyalty step that cannot happen; the message is safe to show the customer."""


class RewardNotFound(LoyaltyError):
    pass


class InsufficientPoints(LoyaltyError):
    pass


# --- Accounts -------------------------------------------------------------------------


def locked_account(*, customer: Customer | int) -> LoyaltyAccount:
    """The customer's account, created if missing, locked for this transaction.

    INSERT ... ON CONFLICT DO NOTHING then SELECT ... FOR UPDATE: two transactions
    creating the same account at once cannot collide (get_or_create can)."""
    customer_id = getattr(customer, "pk", customer)
    LoyaltyAccount.objects.bulk_create([LoyaltyAccount(customer_id=customer_id)], ignore_conflicts=True)
    return LoyaltyAccount.objects.select_for_update().get(pk=customer_id)


def _update_account(*, account_id: int, points: int, lifetime: int = 0, require_balance: int = 0) -> int:
    """Adds `points` to the balance and `lifetime` to lifetime points in one UPDATE,
    recomputing the tier from the new lifetime points. With require_balance, the
    UPDATE only happens while the balance covers it. Returns the rows changed (0 or 1)."""
    accounts = LoyaltyAccount.objects.filter(pk=account_id)
    if require_balance:
        accounts = accounts.filter(points__gte=require_balance)
    # In SET, columns read their old values: new lifetime >= threshold
    # is old lifetime >= threshold - lifetime.
    new_tier = Case(
        *[
            When(Q(lifetime_points__gte=tier.threshold - lifetime), then=Value(tier.key))
            for tier in reversed(TIERS[1:])
        ],
        default=Value(TIERS[0].key),
    )
    return accounts.update(
        points=F("points") + points,
        lifetime_points=F("lifetime_points") + lifetime,
        tier=new_tier,
        updated_at=timezone.now(),
    )


# --- Earning and reversing ----------------------------------------------------------------


def points_for_amount(amount: Decimal) -> int:
    """Base points: one per whole dollar paid."""
    return max(math.floor(amount), 0)


def tier_bonus(*, base: int, tier: Tier) -> int:
    return math.floor(base * (tier.multiplier - 1))


def award_job_points(*, job: Job) -> int:
    """Awards a completed job's points once; returns the points it earned.

    Runs inside complete_job's transaction, which holds the job's row lock; the
    (job, type) unique constraint makes a second earn impossible regardless."""
    account = locked_account(customer=job.customer_id)
    if PointsEntry.objects.filter(job=job, type=Type.EARN).exists():
        return points_awarded_for(job=job)
    held = TIERS_BY_KEY[account.tier]
    base = points_for_amount(job.amount_paid)
    bonus = tier_bonus(base=base, tier=held)
    at = job.completed_at or timezone.now()
    service = job.service_type.name
    entries = []
    if base:
        entries.append(
            PointsEntry(
                account=account, points=base, type=Type.EARN, job=job, created_at=at,
                description=f"{service} completed (${job.amount_paid})",
            )
        )
    if bonus:
        entries.append(
            PointsEntry(
                account=account, points=bonus, type=Type.TIER_BONUS, job=job, created_at=at,
                description=f"{held.name} tier bonus ({held.multiplier}x) on {service}",
            )
        )
    if not entries:
        return 0
    PointsEntry.objects.bulk_create(entries)
    earned = base + bonus
    _update_account(account_id=account.pk, points=earned, lifetime=earned)
    reached = tier_for(account.lifetime_points + earned)
    if reached.threshold > held.threshold:
        _record_upgrade(account=account, held=held, reached=reached, job=job)
    return earned


def award_job_bonus(*, job: Job, points: int, type: str, description: str) -> int:
    """Adds a bonus a completed job earns on top of its base points (a feature's own
    ledger line, such as a maintenance plan's bonus), once per job and type; counts
    towards lifetime points and the tier, and is reversed with the job's other points.
    Runs in complete_job's transaction, after award_job_points. Returns the points added."""
    if points <= 0:
        return 0
    account = locked_account(customer=job.customer_id)
    if PointsEntry.objects.filter(job=job, type=type).exists():
        return 0
    PointsEntry.objects.create(
        account=account, points=points, type=type, job=job, description=description,
        created_at=job.completed_at or timezone.now(),
    )
    _update_account(account_id=account.pk, points=points, lifetime=points)
    held, reached = TIERS_BY_KEY[account.tier], tier_for(account.lifetime_points + points)
    if reached.threshold > held.threshold and not TierUpgrade.objects.filter(job=job).exists():
        _record_upgrade(account=account, held=held, reached=reached, job=job)
    return points


def _record_upgrade(*, account: LoyaltyAccount, held: Tier, reached: Tier, job: Job | None) -> None:
    """One TierUpgrade row, one notification and one queued email per upgrade."""
    upgrade = TierUpgrade.objects.create(account=account, from_tier=held.key, to_tier=reached.key, job=job)
    customer = account.customer
    notify(
        customer=customer,
        kind=TIER_UPGRADE_NOTICE,
        title=f"{reached.emoji} You reached {reached.name}!",
        message=(
            f"You're now a {reached.name} member: every job earns {reached.multiplier}x points."
        ),
        action_url=REWARDS_URL,
    )
    queue_email(
        template=TIER_UPGRADE_TEMPLATE,
        customer=customer,
        kind=Kind.TRANSACTIONAL,
        idempotency_key=f"tier_upgrade/{upgrade.pk}",
        context=tier_upgrade_context(held=held, reached=reached),
    )


def points_awarded_for(*, job: Job) -> int:
    """The points a job earned (base, tier bonus, plan bonus), for repeated completions."""
    return PointsEntry.objects.filter(job=job, type__in=PointsEntry.EARNED_TYPES).aggregate(
        total=Sum("points", default=0)
    )["total"]


def reverse_job_points(*, job: Job) -> int:
    """Reverses what a job earned when it is cancelled after completion; returns the
    points taken back. Never takes the balance below zero: points already spent
    stay spent, and the reversal line says how many could not be reversed."""
    account = locked_account(customer=job.customer_id)
    if PointsEntry.objects.filter(job=job, type=Type.REVERSAL).exists():
        return 0
    earned = points_awarded_for(job=job)
    if not earned:
        return 0
    reversed_points = min(earned, account.points)
    shortfall = earned - reversed_points
    description = f"{job.service_type.name} cancelled: {earned} points reversed"
    if shortfall:
        description = (
            f"{job.service_type.name} cancelled: {reversed_points} of {earned} points reversed; "
            f"{shortfall} already spent could not be reversed"
        )
    PointsEntry.objects.create(
        account=account, points=-reversed_points, type=Type.REVERSAL, job=job, description=description
    )
    if reversed_points:
        _update_account(account_id=account.pk, points=-reversed_points, lifetime=-reversed_points)
    return reversed_points


# --- Referral points (balance only) ------------------------------------------------------


def grant_referral_points(*, customer: Customer | int, points: int, description: str) -> PointsEntry:
    """Adds an advocate's referral points as one `referral` ledger line. Changes only the
    balance, never lifetime points or the tier. Call inside the caller's transaction."""
    if points <= 0:
        raise LoyaltyError("Referral points must be positive.")
    account = locked_account(customer=customer)
    _update_account(account_id=account.pk, points=points)
    return PointsEntry.objects.create(account=account, points=points, type=Type.REFERRAL, description=description)


def take_back_referral_points(*, customer: Customer | int, points: int, description: str) -> PointsEntry | None:
    """Reverses referral points as other points are reversed: never below a zero
    balance (points already spent stay spent, and the line says so). Returns the
    negative `referral` line, or None when nothing was left to take back."""
    account = locked_account(customer=customer)
    taken = min(points, account.points)
    if not taken:
        return None
    if taken < points:
        description = f"{description}: {taken} of {points} points reversed; {points - taken} already spent"
    _update_account(account_id=account.pk, points=-taken)
    return PointsEntry.objects.create(account=account, points=-taken, type=Type.REFERRAL, description=description)


# --- Redemption ------------------------------------------------------------------------


@dataclass(frozen=True)
class RedemptionResult:
    redemption: Redemption
    points: int  # the balance after redeeming


def voucher_terms(reward: Reward) -> dict:
    """What promo code a reward turns into."""
    if reward.reward_type == Reward.RewardType.PERCENT_OFF:
        return {"discount_type": PromoCode.DiscountType.PERCENT, "discount_value": reward.reward_value}
    terms = {"discount_type": PromoCode.DiscountType.AMOUNT, "discount_value": reward.reward_value}
    if reward.reward_type == Reward.RewardType.FREE_SERVICE:
        terms["service_types"] = [reward.service_type]
    return terms


def redeem_reward(*, customer: Customer, reward_id: uuid.UUID | str) -> RedemptionResult:
    """Spends points on an active reward, all or nothing: a conditional deduction
    that cannot overspend, the redeem ledger line, a voucher code the customer
    applies at booking, a notification and a queued confirmation email."""
    reward = Reward.objects.filter(pk=reward_id, active=True).select_related("service_type").first()
    if reward is None:
        raise RewardNotFound("That reward isn't available.")
    cost = reward.points_cost
    with transaction.atomic():
        # The conditional UPDATE is the check: it also takes the row lock.
        if not _update_account(account_id=customer.pk, points=-cost, require_balance=cost):
            raise InsufficientPoints(f"{reward.name} costs {cost:,} points; you don't have enough yet.")
        balance = LoyaltyAccount.objects.values_list("points", flat=True).get(pk=customer.pk)
        now = timezone.now()
        voucher = issue_promo_code(
            customer=customer,
            source=VOUCHER_SOURCE,
            expires_at=code_expiry(business_today() + dt.timedelta(days=reward.voucher_valid_days)),
            **voucher_terms(reward),
        )
        redemption = Redemption.objects.create(
            account_id=customer.pk, reward=reward, points_spent=cost, voucher=voucher, created_at=now
        )
        PointsEntry.objects.create(
            account_id=customer.pk,
            points=-cost,
            type=Type.REDEEM,
            redemption=redemption,
            description=f"Redeemed {reward.name}",
            created_at=now,
        )
        notify(
            customer=customer,
            kind=REDEMPTION_NOTICE,
            title=f"🎉 {reward.name} redeemed",
            message=f"Your voucher code is {voucher.code}. Apply it when you book.",
            action_url=REWARDS_URL,
        )
        queue_email(
            template=REDEMPTION_TEMPLATE,
            customer=customer,
            kind=Kind.TRANSACTIONAL,
            idempotency_key=f"redemption/{redemption.pk}",
            context=redemption_context(reward=reward, voucher=voucher, points=balance),
        )
    return RedemptionResult(redemption=redemption, points=balance)


# --- Staff adjustments ----------------------------------------------------------------------


def adjust_points(*, customer: Customer, points: int, reason: str, staff: User) -> PointsEntry:
    """Grants (positive) or deducts (negative) points with a reason, recorded with the
    staff member. Changes only the balance, never lifetime points or the tier."""
    reason = reason.strip()
    if not reason:
        raise LoyaltyError("Say why the points are adjusted.")
    if not points:
        raise LoyaltyError("Adjust by a non-zero number of points.")
    if not staff.is_staff:
        raise LoyaltyError("Only staff can adjust points.")
    with transaction.atomic():
        account = locked_account(customer=customer)
        if not _update_account(account_id=account.pk, points=points, require_balance=max(-points, 0)):
            raise InsufficientPoints(
                f"Cannot deduct {-points:,} points: the balance is {account.points:,}."
            )
        return PointsEntry.objects.create(
            account=account, points=points, type=Type.ADJUSTMENT, description=reason, created_by=staff
        )

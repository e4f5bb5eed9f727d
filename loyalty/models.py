"""The loyalty program: an account per customer, an append-only points ledger,
rewards staff define, and the redemptions that turn points into vouchers."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from retention.kinds import NOTIFICATION_KINDS, PROMO_SOURCES

from .tiers import TIER_CHOICES

# What loyalty adds to the core's notification kinds and promo-code sources.
TIER_UPGRADE_NOTICE = NOTIFICATION_KINDS.register("tier_upgrade", "Tier upgrade")
REDEMPTION_NOTICE = NOTIFICATION_KINDS.register("redemption", "Redemption")
LOYALTY_NOTICE = NOTIFICATION_KINDS.register("loyalty", "Loyalty")
VOUCHER_SOURCE = PROMO_SOURCES.register("voucher", "Loyalty voucher")


class LoyaltyAccount(models.Model):
    """Balance and lifetime points always equal what the account's ledger sums to."""

    customer = models.OneToOneField(
        "retention.Customer", on_delete=models.PROTECT, primary_key=True, related_name="loyalty"
    )
    # 64-bit: no sum of ledger lines can overflow a column (issue 12).
    points = models.BigIntegerField(default=0)
    lifetime_points = models.BigIntegerField(default=0)
    tier = models.CharField(max_length=10, choices=TIER_CHOICES, default="bronze")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="loyalty_points_not_negative"),
            models.CheckConstraint(
                condition=Q(lifetime_points__gte=0), name="loyalty_lifetime_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["tier"], name="loyalty_account_tier")]

    def __str__(self):
        return f"{self.customer}: {self.points} points ({self.tier})"


class PointsEntry(models.Model):
    """One signed line of the ledger. Never updated or deleted."""

    class Type(models.TextChoices):
        EARN = "earn", "Earned"
        TIER_BONUS = "tier_bonus", "Tier bonus"
        REDEEM = "redeem", "Redeemed"
        ADJUSTMENT = "adjustment", "Staff adjustment"
        REVERSAL = "reversal", "Reversal"
        # A friend's first completed job (referrals): balance only, so lifetime points
        # and tiers reflect spending. Its reversal is a negative referral line.
        REFERRAL = "referral", "Referral"
        PLAN_BONUS = "plan_bonus", "Plan bonus"

    # What a completed job earns: base points, the tier bonus and, for a maintenance
    # plan visit, the plan's bonus (plans.services). A reversal takes back all of them.
    EARNED_TYPES = (Type.EARN, Type.TIER_BONUS, Type.PLAN_BONUS)
    # Entries that count towards lifetime points.
    LIFETIME_TYPES = (*EARNED_TYPES, Type.REVERSAL)

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="entries")
    points = models.BigIntegerField()
    type = models.CharField(max_length=12, choices=Type.choices)
    description = models.CharField(max_length=300)
    job = models.ForeignKey(
        "retention.Job", on_delete=models.PROTECT, null=True, blank=True, related_name="points_entries"
    )
    redemption = models.ForeignKey(
        "loyalty.Redemption", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member, for adjustments.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "points entries"
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="points_account_new"),
            models.Index(fields=["created_at"], name="points_created"),  # staff metrics by period
        ]
        constraints = [
            # A job earns once, gets one tier bonus and one reversal, however often
            # completion or cancellation arrives.
            models.UniqueConstraint(
                fields=["job", "type"],
                condition=Q(job__isnull=False) & Q(type__in=["earn", "tier_bonus", "plan_bonus", "reversal"]),
                name="points_once_per_job_and_type",
            ),
            models.CheckConstraint(condition=~Q(points=0) | Q(type="reversal"), name="points_entry_nonzero"),
            models.CheckConstraint(
                condition=~Q(type="adjustment") | Q(created_by__isnull=False),
                name="points_adjustment_has_staff",
            ),
        ]

    def __str__(self):
        return f"{self.points:+d} {self.type}"


class Reward(models.Model):
    class RewardType(models.TextChoices):
        AMOUNT_OFF = "amount_off", "Dollars off"
        PERCENT_OFF = "percent_off", "Percent off"
        FREE_SERVICE = "free_service", "Free service"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    description = models.TextField()
    points_cost = models.PositiveBigIntegerField()
    reward_type = models.CharField(max_length=15, choices=RewardType.choices)
    reward_value = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text="Dollars or percent off; for a free service, the most it covers in dollars.",
    )
    service_type = models.ForeignKey(
        "retention.ServiceType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="For a free service: which one.",
    )
    voucher_valid_days = models.PositiveIntegerField(default=90)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["points_cost", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="reward_cost_positive"),
            models.CheckConstraint(condition=Q(reward_value__gt=0), name="reward_value_positive"),
            models.CheckConstraint(
                condition=~Q(reward_type="percent_off") | Q(reward_value__lte=100),
                name="reward_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=~Q(reward_type="free_service") | Q(service_type__isnull=False),
                name="reward_free_service_has_type",
            ),
        ]

    def __str__(self):
        return self.name


class Redemption(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    points_spent = models.PositiveBigIntegerField()
    voucher = models.OneToOneField(
        "retention.PromoCode", on_delete=models.PROTECT, related_name="redemption"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.reward} for {self.account.customer}"


class TierUpgrade(models.Model):
    """A customer reaching a higher tier: one notification and one email each."""

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.PROTECT, related_name="upgrades")
    from_tier = models.CharField(max_length=10, choices=TIER_CHOICES)
    to_tier = models.CharField(max_length=10, choices=TIER_CHOICES)
    job = models.ForeignKey("retention.Job", on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job"], condition=Q(job__isnull=False), name="tier_upgrade_once_per_job"
            ),
        ]

    def __str__(self):
        return f"{self.account.customer}: {self.from_tier} -> {self.to_tier}"

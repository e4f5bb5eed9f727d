"""Referrals: each customer's code, the friends who signed up through it, and the
advocate's reward when a friend's first job is completed.

A friend is referred once (Referral.friend is unique) and a referral has at most one
standing reward (a partial unique constraint), so however often completion arrives the
advocate is rewarded once per friend. The points themselves are loyalty ledger lines
of type `referral` (balance only, never lifetime points)."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from retention.kinds import NOTIFICATION_KINDS, PROMO_SOURCES
from retention.models.promo import CODE_ALPHABET

# What referrals add to the core's notification kinds and promo-code sources.
REFERRAL_NOTICE = NOTIFICATION_KINDS.register("referral", "Referral")
WELCOME_SOURCE = PROMO_SOURCES.register("welcome", "Referral welcome")

# 31**9 ~ 2**44.6: over the 40 bits asked for, short enough to read out or type from a
# phone. The promo alphabet: no 0/O or 1/I/L.
REFERRAL_CODE_LENGTH = 9


def generate_referral_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))


def normalize_referral_code(text: str) -> str:
    """What a visitor typed or a link holds, as stored (upper case, no separators)."""
    return "".join(ch for ch in text.upper() if ch.isalnum())[:20]


class ReferralCode(models.Model):
    """A customer's code, for the link /r/<code>. Created on first use
    (referrals.services.referral_code_for)."""

    customer = models.OneToOneField(
        "retention.Customer", on_delete=models.CASCADE, primary_key=True, related_name="referral_code"
    )
    code = models.CharField(max_length=REFERRAL_CODE_LENGTH, unique=True, default=generate_referral_code)
    opens = models.PositiveIntegerField(default=0, help_text="Times the link was opened by someone else.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.code


class LinkOpens(models.Model):
    """Link openings per code and business day, for the staff funnel (one row a day)."""

    code = models.ForeignKey(ReferralCode, on_delete=models.CASCADE, related_name="daily_opens")
    day = models.DateField()
    opens = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "link opens"
        constraints = [models.UniqueConstraint(fields=["code", "day"], name="referral_opens_once_per_day")]
        indexes = [models.Index(fields=["day"], name="referral_opens_day")]


class Referral(models.Model):
    """A friend who signed up through an advocate's link."""

    class Status(models.TextChoices):
        JOINED = "joined", "Joined"
        REWARDED = "rewarded", "Rewarded"
        BLOCKED = "blocked", "Blocked"
        CANCELLED = "cancelled", "Cancelled by staff"

    class BlockReason(models.TextChoices):
        SAME_EMAIL = "same_email", "Email matches the advocate's"
        SAME_NAME = "same_name", "Same name as the advocate"
        IP_BURST = "ip_burst", "Too many sign-ups from one IP address"
        SELF = "self", "The advocate signed up themselves"
        YEARLY_CAP = "yearly_cap", "The advocate reached the yearly limit"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    advocate = models.ForeignKey("retention.Customer", on_delete=models.PROTECT, related_name="referrals_made")
    friend = models.OneToOneField("retention.Customer", on_delete=models.PROTECT, related_name="referred_by")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.JOINED)
    block_reason = models.CharField(max_length=12, choices=BlockReason.choices, blank=True)
    block_detail = models.CharField(max_length=300, blank=True)
    signup_ip = models.GenericIPAddressField(null=True, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    welcome_code = models.OneToOneField(
        "retention.PromoCode", on_delete=models.PROTECT, null=True, blank=True, related_name="referral"
    )
    first_job_at = models.DateTimeField(
        null=True, blank=True, help_text="When the friend's first job was completed (for the staff funnel)."
    )
    blocked_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who unblocked it: the fraud checks are not applied again.",
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-joined_at"]
        indexes = [
            models.Index(fields=["advocate", "-joined_at"], name="referral_advocate_joined"),
            models.Index(fields=["signup_ip", "joined_at"], name="referral_ip_joined"),
            models.Index(fields=["joined_at"], name="referral_joined"),
            models.Index(fields=["first_job_at"], name="referral_first_job"),
            models.Index(fields=["blocked_at"], name="referral_blocked"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(advocate=F("friend")), name="referral_not_self"),
            models.CheckConstraint(
                condition=~Q(status="blocked") | ~Q(block_reason=""), name="referral_blocked_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.advocate} referred {self.friend}"


class ReferralReward(models.Model):
    """The advocate's points for a friend's first completed job. Reversed (never
    deleted) when that job is cancelled; a referral has one standing reward at most."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="rewards")
    advocate = models.ForeignKey("retention.Customer", on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey("retention.Job", on_delete=models.PROTECT, related_name="referral_rewards")
    points = models.PositiveIntegerField()
    entry = models.OneToOneField("loyalty.PointsEntry", on_delete=models.PROTECT, related_name="referral_reward")
    created_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_entry = models.OneToOneField(
        "loyalty.PointsEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referral_reversal",
        help_text="Empty when nothing could be taken back (the points were already spent).",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["advocate", "created_at"], name="referral_reward_advocate"),
            models.Index(fields=["created_at"], name="referral_reward_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"], condition=Q(reversed_at__isnull=True), name="referral_one_standing_reward"
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="referral_reward_positive"),
        ]

    def __str__(self):
        return f"{self.points} points for {self.referral}"

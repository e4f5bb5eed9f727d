"""Maintenance plans: the plans staff offer, customers' subscriptions to them with
their history of changes, and the plan visits (jobs) booked for each subscription."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from retention.kinds import NOTIFICATION_KINDS

# What plans add to the core's notification kinds.
PLAN_NOTICE = NOTIFICATION_KINDS.register("plan", "Maintenance plan")


class Plan(models.Model):
    """A service done every `interval_days`, each visit at a discount, each completed
    visit earning a bonus on its points. Inactive plans take no new subscriptions;
    existing subscriptions go on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    service_type = models.ForeignKey("retention.ServiceType", on_delete=models.PROTECT, related_name="plans")
    interval_days = models.PositiveIntegerField(help_text="Days between two visits; 7 or more.")
    discount_percent = models.PositiveSmallIntegerField(help_text="Off the list price of every visit, 0-100.")
    bonus_points_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Extra points on each completed visit, as a percent of its base points."
    )
    active = models.BooleanField(default=True, help_text="Offered to customers.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(interval_days__gte=7), name="plan_interval_at_least_7"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="plan_discount_0_to_100"
            ),
            models.CheckConstraint(
                condition=Q(bonus_points_percent__gte=0, bonus_points_percent__lte=1000),
                name="plan_bonus_0_to_1000",
            ),
        ]

    def __str__(self):
        return self.name


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey("retention.Customer", on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField(help_text="The first visit's date.")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The daily job reads the active subscriptions.
            models.Index(fields=["plan"], condition=Q(status="active"), name="subscription_active_plan"),
        ]
        constraints = [
            # One subscription per customer and plan until it is cancelled (a paused
            # one is resumed, not subscribed to again).
            models.UniqueConstraint(
                fields=["customer", "plan"], condition=~Q(status="cancelled"), name="subscription_one_open_per_plan"
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancelled_at__isnull=False)
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="subscription_cancelled_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.plan} for {self.customer}"


class SubscriptionChange(models.Model):
    """One line of a subscription's history: what changed, who did it and when.
    Never updated or deleted."""

    class Action(models.TextChoices):
        SUBSCRIBED = "subscribed", "Subscribed"
        SKIPPED = "skipped", "Skipped a visit"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        CANCELLED = "cancelled", "Cancelled"

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=12, choices=Action.choices)
    note = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Who made the change (the customer or staff).",
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-changed_at"], name="subscription_change_sub"),
            models.Index(fields=["action", "changed_at"], name="subscription_change_at"),  # staff metrics
        ]

    def __str__(self):
        return f"{self.get_action_display()} at {self.changed_at:%Y-%m-%d %H:%M}"


class PlanVisit(models.Model):
    """A job booked for a subscription, for the plan's date `scheduled_for` (the job
    may fall on a later day when no provider was free on this one).

    Once per subscription and date: the database refuses a second booking for it,
    however often or concurrently the daily job or the customer books. A visit called
    off by pausing or cancelling the subscription releases its date; a skipped one keeps
    it, so the next visit follows it by the plan's interval."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        SKIPPED = "skipped", "Skipped"
        CALLED_OFF = "called_off", "Called off"

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="visits")
    job = models.OneToOneField(
        "retention.Job", on_delete=models.PROTECT, null=True, blank=True, related_name="plan_visit",
        help_text="The booked job; none for a visit skipped before it was booked.",
    )
    scheduled_for = models.DateField(help_text="The plan's date for this visit.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheduled_for"]
        indexes = [models.Index(fields=["created_at"], name="plan_visit_created")]  # staff metrics
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "scheduled_for"],
                condition=~Q(status="called_off"),
                name="plan_visit_once_per_date",
            ),
        ]

    def __str__(self):
        return f"{self.subscription.plan} visit on {self.scheduled_for}"

"""Seasonal campaigns and the record of who was sent which campaign's code."""

import operator
import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Func, Q, Value, When
from django.utils import timezone
from django.utils.dates import MONTHS

from retention.kinds import NOTIFICATION_KINDS, PROMO_SOURCES

# What campaigns add to the core's notification kinds and promo-code sources.
SEASONAL_NOTICE = NOTIFICATION_KINDS.register("seasonal", "Seasonal offer")
SEASONAL_SOURCE = PROMO_SOURCES.register("seasonal", "Seasonal campaign")


def month_in_range(month, start, end, *, at_most=operator.le):
    """Whether `month` is one of the months from `start` to `end`, inclusive, in a range
    that may wrap the year (December to February covers 12, 1 and 2): counting round
    the year, it is no further past `start` than `end` is. The one rule for the months
    a campaign covers: on numbers in Python (Campaign.months, covers), and on query
    expressions in SQL with `at_most=LessThanOrEqual` (campaigns.selectors.
    covering_month). The no-overlap constraint's multirange (_months_multirange) is
    held to it for every range by tests/campaigns/test_months.py."""
    return at_most((month - start + 12) % 12, (end - start + 12) % 12)


def _months_multirange():
    """SQL for the months a campaign covers, as an int4multirange, so that a wrapping
    range (December to February) is {[12,13), [1,3)} and `&&` finds any shared month.
    (Written as ranges, not with month_in_range, because the constraint compares two
    campaigns' month sets; the migration holds this expression.)"""

    def int_range(lower, upper):
        return Func(lower, upper, function="int4range")

    return Case(
        When(
            start_month__lte=F("end_month"),
            then=Func(int_range(F("start_month"), F("end_month") + 1), function="int4multirange"),
        ),
        default=Func(
            int_range(F("start_month"), Value(13)),
            int_range(Value(1), F("end_month") + 1),
            function="int4multirange",
        ),
        output_field=models.Field(),
    )


class ActiveMonthsExclusion(ExclusionConstraint):
    """No two active campaigns share a month, enforced by PostgreSQL (GiST on a
    multirange, so no extension is needed). Campaign.clean() reports the clash with
    the other campaign's name first, so form validation skips this generic check."""

    def validate(self, *args, **kwargs):
        return None

    def check(self, model, connection):
        # Creating the constraint needs nothing from django.contrib.postgres (no
        # lookups, no extensions), so the project does not install that app.
        return [e for e in super().check(model, connection) if e.id != "postgres.E005"]


MONTH_CHOICES = [(number, name) for number, name in MONTHS.items()]


class Campaign(models.Model):
    class Season(models.TextChoices):
        SPRING = "spring", "Spring"
        SUMMER = "summer", "Summer"
        FALL = "fall", "Fall"
        WINTER = "winter", "Winter"

    EMOJI = {"spring": "🌸", "summer": "☀️", "fall": "🍂", "winter": "❄️"}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    season = models.CharField(max_length=10, choices=Season.choices)
    title = models.CharField(max_length=200)
    description = models.TextField()
    discount_percent = models.PositiveSmallIntegerField()
    start_month = models.PositiveSmallIntegerField(
        choices=MONTH_CHOICES, help_text="1-12; a range may wrap the year."
    )
    end_month = models.PositiveSmallIntegerField(choices=MONTH_CHOICES, help_text="1-12, inclusive.")
    service_types = models.ManyToManyField(
        "retention.ServiceType", blank=True, help_text="None means every service type."
    )
    promo_valid_days = models.PositiveIntegerField(default=30)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_month"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=1, discount_percent__lte=100),
                name="campaign_discount_1_to_100",
            ),
            models.CheckConstraint(
                condition=Q(start_month__gte=1, start_month__lte=12, end_month__gte=1, end_month__lte=12),
                name="campaign_months_valid",
            ),
            models.CheckConstraint(condition=Q(promo_valid_days__gt=0), name="campaign_validity_positive"),
            ActiveMonthsExclusion(
                name="campaign_active_months_disjoint",
                expressions=[(_months_multirange(), RangeOperators.OVERLAPS)],
                condition=Q(active=True),
                violation_error_message="Another active campaign already covers one of these months.",
            ),
        ]

    def __str__(self):
        return f"{self.emoji} {self.title}"

    def clean(self):
        if not self.active or not (1 <= (self.start_month or 0) <= 12 and 1 <= (self.end_month or 0) <= 12):
            return
        for other in Campaign.objects.filter(active=True).exclude(pk=self.pk):
            shared = self.months & other.months
            if shared:
                names = ", ".join(str(MONTHS[m]) for m in _in_season_order(shared, other.start_month))
                raise ValidationError(
                    f"“{other.title}” ({other.get_season_display().lower()}, {other.month_range_label}) "
                    f"is already active in {names}. Two active campaigns cannot share a month: "
                    "change the months or deactivate one of them."
                )

    @property
    def month_range_label(self) -> str:
        return f"{MONTHS[self.start_month]} to {MONTHS[self.end_month]}"

    def season_year(self, day) -> int:
        """The year this campaign's season began for `day` (winter Dec 2026 - Feb 2027 is 2026)."""
        return day.year if day.month >= self.start_month else day.year - 1

    @property
    def emoji(self) -> str:
        return self.EMOJI[self.season]

    @property
    def months(self) -> set[int]:
        """The months this campaign covers; a range may wrap the year."""
        return {month for month in range(1, 13) if self.covers(month)}

    def covers(self, month: int) -> bool:
        return month_in_range(month, self.start_month, self.end_month)


def _in_season_order(months: set[int], start: int) -> list[int]:
    return sorted(months, key=lambda m: (m - start) % 12)


class CampaignSend(models.Model):
    """One customer sent one campaign's code in one season; never twice."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sends")
    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="campaign_sends")
    season_year = models.PositiveSmallIntegerField(
        help_text="The year the season started in (winter Dec 2026 - Feb 2027 is 2026)."
    )
    promo_code = models.OneToOneField(
        "retention.PromoCode", on_delete=models.PROTECT, related_name="campaign_send"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["sent_at"], name="campaign_send_sent")]  # staff metrics by period
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "season_year"], name="campaign_send_once_per_season"
            ),
        ]

    def __str__(self):
        return f"{self.campaign} to {self.customer} ({self.season_year})"


class PromoCodeAttempt(models.Model):
    """A promo code a customer tried at booking. Kept in the database (not a cache)
    so the throttle holds across every web worker; see campaigns.throttle."""

    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="+")
    attempted_at = models.DateTimeField(default=timezone.now)
    wrong = models.BooleanField(
        default=True,
        help_text="Unknown or someone else's code. Counted as wrong until the lookup proves otherwise.",
    )

    class Meta:
        indexes = [models.Index(fields=["customer", "attempted_at"], name="promo_attempt_customer_at")]

    def __str__(self):
        return f"{self.customer_id} at {self.attempted_at:%Y-%m-%d %H:%M}"

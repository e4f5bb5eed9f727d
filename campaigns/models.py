"""Seasonal campaigns and the record of who was sent which campaign's code."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


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
    start_month = models.PositiveSmallIntegerField(help_text="1-12; a range may wrap the year.")
    end_month = models.PositiveSmallIntegerField(help_text="1-12, inclusive.")
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
        ]

    def __str__(self):
        return f"{self.emoji} {self.title}"

    @property
    def emoji(self) -> str:
        return self.EMOJI[self.season]

    @property
    def months(self) -> set[int]:
        """The months this campaign covers; a range may wrap the year."""
        if self.start_month <= self.end_month:
            return set(range(self.start_month, self.end_month + 1))
        return set(range(self.start_month, 13)) | set(range(1, self.end_month + 1))

    def covers(self, month: int) -> bool:
        return month in self.months


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
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "season_year"], name="campaign_send_once_per_season"
            ),
        ]

    def __str__(self):
        return f"{self.campaign} to {self.customer} ({self.season_year})"

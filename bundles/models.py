"""Service bundles: two or more service types booked together at a discount."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.dates import MONTHS

from campaigns.models import MONTH_CHOICES


class Bundle(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    service_types = models.ManyToManyField(
        "retention.ServiceType",
        related_name="bundles",
        help_text="Two or more; one job is booked for each.",
    )
    discount_percent = models.PositiveSmallIntegerField(help_text="Off each service's price, 1-99.")
    # Named as a campaign's months, so campaigns.selectors.covering_month() selects them.
    start_month = models.PositiveSmallIntegerField(
        choices=MONTH_CHOICES,
        null=True,
        blank=True,
        help_text="Empty with the end month: all year. May wrap the year.",
    )
    end_month = models.PositiveSmallIntegerField(
        choices=MONTH_CHOICES, null=True, blank=True, help_text="Inclusive."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=1, discount_percent__lte=99),
                name="bundle_discount_1_to_99",
            ),
            models.CheckConstraint(
                condition=Q(start_month__isnull=True, end_month__isnull=True)
                | Q(start_month__gte=1, start_month__lte=12, end_month__gte=1, end_month__lte=12),
                name="bundle_months_both_or_neither",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if (self.start_month is None) != (self.end_month is None):
            raise ValidationError("Give both a start and an end month, or neither for all year.")

    @property
    def month_range_label(self) -> str:
        if self.start_month is None:
            return "All year"
        return f"{MONTHS[self.start_month]} to {MONTHS[self.end_month]}"

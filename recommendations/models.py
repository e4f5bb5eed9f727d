"""What the RecommendationsWidget reads (service co-occurrence, refreshed nightly) and
what it writes (which recommendation each customer was shown, once a day)."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Reason(models.TextChoices):
    """Why a service is recommended, in the order they are shown."""

    DUE = "due", "Due or overdue"
    ON_OFFER = "on_offer", "On offer"
    BOOKED_TOGETHER = "booked_together", "Booked together"


class ServicePair(models.Model):
    """Customers who had `service_type` done also had `recommended` done: one row per
    ordered pair with enough support, written only by refresh_recommendations, which
    replaces every row in one transaction."""

    service_type = models.ForeignKey(
        "retention.ServiceType", on_delete=models.CASCADE, related_name="+"
    )
    recommended = models.ForeignKey(
        "retention.ServiceType", on_delete=models.CASCADE, related_name="+"
    )
    customers = models.PositiveIntegerField(help_text="Customers who had both.")
    support = models.FloatField(
        help_text="Customers who had both / customers with any completed job."
    )
    confidence = models.FloatField(
        help_text="Customers who had both / customers who had the first."
    )
    lift = models.FloatField(
        help_text="Confidence / share of customers who had the recommended one; over 1: together more than by chance."
    )
    as_of = models.DateField(help_text="Completed jobs up to this day were counted.")

    class Meta:
        ordering = ["service_type", "-lift"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_type", "recommended"], name="service_pair_once"
            ),
            models.CheckConstraint(
                condition=~Q(service_type=F("recommended")), name="service_pair_two_services"
            ),
        ]

    def __str__(self):
        return f"{self.service_type_id} -> {self.recommended_id} (lift {self.lift:.2f})"


class RecommendationShown(models.Model):
    """A customer was shown a service with a reason: once per customer, service and
    day (the first showing that day is kept), for the staff conversion figures."""

    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="+")
    service_type = models.ForeignKey(
        "retention.ServiceType", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    shown_on = models.DateField(help_text="Business day.")
    shown_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["shown_at"], name="recommendation_shown_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "service_type", "shown_on"],
                name="recommendation_shown_once_a_day",
            ),
        ]

    def __str__(self):
        return f"{self.service_type_id} to {self.customer_id} on {self.shown_on} ({self.reason})"

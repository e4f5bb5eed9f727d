"""Service types and the jobs customers book from providers."""

import datetime as dt
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ServiceType(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    frequency_days = models.PositiveIntegerField(
        help_text="Recommended days between two services."
    )
    base_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(frequency_days__gt=0), name="servicetype_frequency_positive"),
            models.CheckConstraint(condition=Q(base_price__gte=0), name="servicetype_price_not_negative"),
        ]

    def __str__(self):
        return self.name

    def next_due_date(self, completed_on: dt.date) -> dt.date:
        return completed_on + dt.timedelta(days=self.frequency_days)


def scheduled_ahead(as_of: dt.date, *, prefix: str = "") -> Q:
    """A job scheduled ahead on `as_of`: still scheduled, for that day or later. The one
    rule behind "a customer with a job scheduled ahead is active": seasonal and win-back
    eligibility, service-due rebooking, the dashboard, the churn view (and the metrics'
    churn SQL, held to it by tests/metrics/test_churn_stages.py); bundles and
    recommendations leave such services out. `prefix` reaches the
    job through a relation ("jobs__")."""
    return Q(**{f"{prefix}status": Job.Status.SCHEDULED, f"{prefix}scheduled_for__gte": as_of})


class Job(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey("retention.Customer", on_delete=models.PROTECT, related_name="jobs")
    provider = models.ForeignKey("retention.Provider", on_delete=models.PROTECT, related_name="jobs")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="jobs")
    scheduled_for = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="List price in dollars.")
    amount_paid = models.DecimalField(
        max_digits=10, decimal_places=2, help_text="Price less any promo code or voucher."
    )
    promo_code = models.OneToOneField(
        "retention.PromoCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="job",
        help_text="The code applied at booking; one code, one job.",
    )
    # "Booking time": a customer's last booking is their most recent job by this.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        "retention.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who marked it completed: the provider, or a staff member (who may record any amount).",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    next_due_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_for", "-created_at"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="job_customer_booked"),
            models.Index(fields=["provider", "status", "scheduled_for"], name="job_provider_status"),
            models.Index(
                fields=["next_due_date"],
                condition=Q(status="completed"),
                name="job_completed_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="job_price_not_negative"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="job_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False, next_due_date__isnull=False),
                name="job_completed_has_dates",
            ),
        ]

    def __str__(self):
        return f"{self.service_type} for {self.customer} on {self.scheduled_for}"

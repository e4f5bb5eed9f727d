"""Service-due reminders and win-back sends: the markers that stop a second send."""

from django.db import models
from django.utils import timezone

from retention.clock import business_today
from retention.kinds import NOTIFICATION_KINDS, PROMO_SOURCES
from retention.models import Customer

# What reminders and win-back add to the core's notification kinds and promo sources.
SERVICE_DUE_NOTICE = NOTIFICATION_KINDS.register("service_due", "Service due")
WINBACK_NOTICE = NOTIFICATION_KINDS.register("winback", "Win-back offer")
WINBACK_SOURCE = PROMO_SOURCES.register("winback", "Win-back")


class ServiceReminder(models.Model):
    """A completed job's customer reminded that its service is due again."""

    job = models.ForeignKey("retention.Job", on_delete=models.PROTECT, related_name="reminders")
    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="service_reminders")
    due_date = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "due_date"], name="reminder_once_per_due_date"),
        ]
        indexes = [
            models.Index(fields=["customer", "-sent_at"], name="reminder_customer_sent"),
            models.Index(fields=["sent_at"], name="reminder_sent"),  # the staff metrics' periods
        ]

    def __str__(self):
        return f"{self.job.service_type} due {self.due_date} for {self.customer}"


class WinbackSend(models.Model):
    """A quiet customer sent a win-back code."""

    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="winback_sends")
    promo_code = models.OneToOneField(
        "retention.PromoCode", on_delete=models.PROTECT, related_name="winback_send"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    # The business day of the run that sent it (the job's as-of date): at most one
    # win-back per customer per day, whatever retries or overlapping runs do.
    sent_on = models.DateField(default=business_today)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "sent_on"], name="winback_once_per_customer_day"),
        ]
        indexes = [
            models.Index(fields=["customer", "-sent_at"], name="winback_customer_sent"),
            models.Index(fields=["sent_at"], name="winback_sent"),  # the staff metrics' periods
        ]

    def __str__(self):
        return f"Win-back to {self.customer} on {self.sent_at:%Y-%m-%d}"


class CustomerChurn(Customer):
    """Customers as staff see them for churn: days since their last booking, their last
    reminder and last win-back (reminders.admin)."""

    class Meta:
        proxy = True
        verbose_name = "customer churn"
        verbose_name_plural = "customer churn"

import uuid

from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """What the portal's bell shows a customer."""

    class Kind(models.TextChoices):
        JOB = "job", "Job update"
        LOYALTY = "loyalty", "Loyalty"
        TIER_UPGRADE = "tier_upgrade", "Tier upgrade"
        REDEMPTION = "redemption", "Redemption"
        SEASONAL = "seasonal", "Seasonal offer"
        SERVICE_DUE = "service_due", "Service due"
        WINBACK = "winback", "Win-back offer"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    message = models.TextField()
    action_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="notification_customer_new")]

    def __str__(self):
        return self.title

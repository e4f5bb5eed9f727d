import uuid

from django.db import models
from django.utils import timezone

from retention.kinds import NOTIFICATION_KINDS, notification_kind_choices

# The core's own kind; features register theirs (retention.kinds).
JOB_UPDATE = NOTIFICATION_KINDS.register("job", "Job update")


class Notification(models.Model):
    """What the portal's bell shows a customer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=NOTIFICATION_KINDS.max_length, choices=notification_kind_choices)
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

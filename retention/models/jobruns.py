from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    """One run of a scheduled command: what it did, as of which day, and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another copy was running)"

    name = models.CharField(max_length=100)
    as_of = models.DateField()
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["name", "-started_at"], name="jobrun_name_started")]

    def __str__(self):
        return f"{self.name} {self.as_of} ({self.status})"

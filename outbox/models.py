"""The email outbox: a row is written in the same transaction as the change that
causes it, then delivered after commit. Its idempotency key makes a re-run safe."""

from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from retention.clock import business_today


class OutboundEmail(models.Model):
    class Kind(models.TextChoices):
        MARKETING = "marketing", "Marketing"
        REMINDER = "reminder", "Service reminder"
        TRANSACTIONAL = "transactional", "Transactional"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending (claimed into a batch)"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed (consent withdrawn)"

    idempotency_key = models.CharField(max_length=200, unique=True, help_text="<kind>/<id>")
    template = models.CharField(max_length=100, help_text="templates/emails/<template>/")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    customer = models.ForeignKey(
        "retention.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    to_email = models.EmailField()
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The batch this row was claimed into: the batch's idempotency key at Resend. It is
    # written and committed before the batch is sent, so a retry after a crash sends the
    # same members under the same key and Resend accepts them once.
    batch_key = models.CharField(max_length=80, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The business day the email was queued for: the as-of date of the job run that
    # queued it (`--date`), today otherwise. The marketing cap counts by it, never by
    # the wall clock, so a run dated ahead or a catch-up run sees what the others sent.
    as_of = models.DateField(default=business_today)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "retention_outboundemail"  # created by the core before the outbox was its own app
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], name="outbox_created"),  # staff metrics by period
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="outbox_pending",
            ),
            # The marketing cap's probe: a customer's marketing email around an as-of day.
            models.Index(
                fields=["customer", "as_of"], condition=models.Q(kind="marketing"), name="outbox_marketing_as_of"
            ),
            models.Index(
                fields=["next_attempt_at", "batch_key"],
                condition=models.Q(status="sending"),
                name="outbox_sending",
            ),
            models.Index(fields=["batch_key"], condition=~models.Q(batch_key=""), name="outbox_batch_key"),
            # The password-reset limit's count: one address's (in any case) reset emails lately.
            models.Index(
                Upper("to_email"), "created_at",
                condition=models.Q(template="password_reset"),
                name="outbox_password_reset",
            ),
        ]

    def __str__(self):
        return f"{self.template} to {self.to_email} ({self.status})"


class RateSlot(models.Model):
    """One of the N requests Resend allows in any one second, shared by every process on
    every host (outbox.ratelimit.SendRate). A request takes a free slot right before it
    leaves and gives it back when its answer arrives; the slot is free again one second
    after that. Times are epoch seconds read from the database's clock, the one clock
    every host shares."""

    number = models.PositiveSmallIntegerField(primary_key=True)
    started_at = models.FloatField(null=True, blank=True)  # when last taken
    answered_at = models.FloatField(null=True, blank=True)  # null while in flight
    # When it may be taken again: answered + the window, or, while in flight, a bound
    # for a taker that never answers (a killed process whose session lingers).
    free_at = models.FloatField(default=0)
    holder_pid = models.IntegerField(null=True, blank=True)  # the taker's database session

    class Meta:
        db_table = "outbox_rateslot"


class RateState(models.Model):
    """The one row of what Resend said about the account's rate: a 429's `retry-after`
    pauses every process until `paused_until`; `server_limit` is the last
    `ratelimit-limit` seen (it lowers the configured rate, never raises it)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    paused_until = models.FloatField(default=0)
    server_limit = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "outbox_ratestate"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="ratestate_one_row")]

"""Holdout groups: which side of each marketing send a customer was on (mailed or held
out), and the holdouts staff have ended.

An app of its own because the seasonal job (campaigns) and win-back (reminders) both
hold customers out and the metrics compare the two sides of both: one table, one rule
(experiments.assign), read the same way for every kind of send. It references a
campaign by foreign key; campaigns and reminders call experiments.assign, which needs
nothing above retention.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Send(models.TextChoices):
    """The marketing sends that keep a holdout group."""

    SEASONAL = "seasonal", "Seasonal campaign"
    WINBACK = "winback", "Win-back"


class Assignment(models.Model):
    """One customer of one marketing send, mailed or held out, as of the run's day.

    `season` says which send: a seasonal campaign's season year ("2026"), or the
    win-back month ("2027-01"). Mailed customers are recorded too (with the same as-of
    day their send has), so the metrics read both sides from one table. Written only by
    the jobs' batch statement (outbox.offers), never updated."""

    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="+")
    send = models.CharField(max_length=16, choices=Send.choices)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    season = models.CharField(max_length=7, help_text="Season year (seasonal) or YYYY-MM (win-back).")
    as_of = models.DateField(help_text="The business day of the run (its --date).")
    held_out = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(send=Send.SEASONAL, campaign__isnull=False)
                | Q(send=Send.WINBACK, campaign__isnull=True),
                name="assignment_campaign_iff_seasonal",
            ),
            # Once per campaign season, as a seasonal send is; win-back once per day,
            # as WinbackSend is (its cooldown keeps the days apart).
            models.UniqueConstraint(
                fields=["campaign", "season", "customer"],
                condition=Q(send=Send.SEASONAL),
                name="assignment_once_per_campaign_season",
            ),
            models.UniqueConstraint(
                fields=["customer", "as_of"],
                condition=Q(send=Send.WINBACK),
                name="assignment_winback_once_per_day",
            ),
        ]
        indexes = [
            # The win-back cooldown probes a customer's recent holdouts.
            models.Index(fields=["customer", "as_of"], name="assignment_customer_as_of"),
            models.Index(fields=["as_of"], name="assignment_as_of"),  # the metrics' period
        ]

    def __str__(self):
        side = "held out of" if self.held_out else "mailed"
        return f"{self.customer_id} {side} {self.get_send_display()} {self.season}"


class HoldoutEnd(models.Model):
    """Staff ended the holdout of a campaign (or of win-back, with no campaign): runs
    as of that day or later hold no one out, and customers held out before are mailed
    like everyone eligible."""

    send = models.CharField(max_length=16, choices=Send.choices)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(default=timezone.now)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(send=Send.SEASONAL, campaign__isnull=False)
                | Q(send=Send.WINBACK, campaign__isnull=True),
                name="holdout_end_campaign_iff_seasonal",
            ),
            models.UniqueConstraint(
                fields=["send", "campaign"], nulls_distinct=False, name="holdout_ends_once"
            ),
        ]

    def clean(self):
        if self.send == Send.SEASONAL and self.campaign_id is None:
            raise ValidationError({"campaign": "Choose the campaign whose holdout ends."})
        if self.send == Send.WINBACK and self.campaign_id is not None:
            raise ValidationError({"campaign": "Win-back has no campaign: leave it empty."})
        already = HoldoutEnd.objects.filter(send=self.send, campaign_id=self.campaign_id).exclude(pk=self.pk)
        if already.exists():
            raise ValidationError("This holdout has already been ended.")

    def __str__(self):
        what = self.campaign if self.campaign_id else self.get_send_display()
        return f"Holdout of {what} ended {self.ended_at:%Y-%m-%d}"

"""The metrics page's daily roll-up (metrics.rollup writes and reads it).

- DailyFigure: one figure of one closed business day (a count or a sum per key, or a
  churn bucket's customers as of the day's end).
- RemindedCustomer: the day's reminded customers and whether they booked.
- RolledUpDay: the day's figures are all written, by the definitions of `version`.
- Change: a journal of the facts written or changed since the roll-up, filled by
  database triggers (migration 0002) in the writers' own transactions: the page counts
  the days they touch from the facts until the nightly job rebuilds those days.
"""

from django.db import models


class DailyFigure(models.Model):
    day = models.DateField()
    figure = models.CharField(max_length=40)
    key = models.CharField(max_length=200, blank=True)
    value = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "figure", "key"], name="metrics_daily_figure_unique")
        ]


class RemindedCustomer(models.Model):
    """A customer sent a service-due reminder on the day, and whether one of that day's
    reminders was followed by a booking within 14 days: what counts distinct reminded
    customers over any period (a per-day total could not)."""

    day = models.DateField()
    customer_id = models.BigIntegerField()
    booked = models.BooleanField()

    class Meta:
        constraints = [
            # With the outcome in the index, counting a period's customers reads the index alone.
            models.UniqueConstraint(
                fields=["day", "customer_id"], include=["booked"], name="metrics_reminded_customer_unique"
            )
        ]


class RolledUpDay(models.Model):
    day = models.DateField(primary_key=True)
    refreshed_at = models.DateTimeField()
    # The time zone and churn stage bounds the figures were counted with: a day counted
    # under other definitions is treated as not rolled up.
    version = models.CharField(max_length=100)


class Change(models.Model):
    """A fact written, changed or deleted: its kind and its moment (to 15 minutes)."""

    kind = models.CharField(max_length=20)
    at = models.DateTimeField()

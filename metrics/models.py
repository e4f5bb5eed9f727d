"""The metrics page's daily roll-up (metrics.rollup writes and reads it).

- DailyFigure: one figure of one closed business day (a count or a sum per key, a
  churn bucket's customers as of the day's end, or a reminded customer's outcome).
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

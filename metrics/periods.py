"""The period a metrics page covers: the last 4, 12 or 52 whole weeks up to today.

Weeks end on today's weekday, so "the last 4 weeks" is exactly the last 28 business
days, today included. Days are business days (TIME_ZONE), as everywhere else.
"""

import datetime as dt
from dataclasses import dataclass

from retention.clock import business_today, start_of_business_day

WEEK_CHOICES = (4, 12, 52)
DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class Period:
    weeks: int
    end: dt.date  # the last day, inclusive

    @classmethod
    def last(cls, weeks: int, *, today: dt.date | None = None) -> "Period":
        if weeks not in WEEK_CHOICES:
            raise ValueError(f"weeks must be one of {WEEK_CHOICES}, got {weeks}")
        return cls(weeks=weeks, end=today or business_today())

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=7 * self.weeks - 1)

    @property
    def starts_at(self) -> dt.datetime:
        return start_of_business_day(self.start)

    @property
    def ends_at(self) -> dt.datetime:
        """The first moment after the period (exclusive bound)."""
        return start_of_business_day(self.end + dt.timedelta(days=1))

    @property
    def week_ends(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=7 * i + 6) for i in range(self.weeks)]

    def week_of(self, day: dt.date) -> int | None:
        """The index of the week `day` falls in, or None outside the period."""
        if not self.start <= day <= self.end:
            return None
        return (day - self.start).days // 7

    def weekly(self, counts_by_day: dict[dt.date, int | float]) -> list:
        """Folds per-day figures into per-week sums (zero for an empty week)."""
        weeks = [0] * self.weeks
        for day, value in counts_by_day.items():
            index = self.week_of(day)
            if index is not None:
                weeks[index] += value or 0
        return weeks

"""Business time: TIME_ZONE is the business time zone and "today" is its local date."""

import datetime as dt

from django.utils import timezone


def business_today() -> dt.date:
    return timezone.localdate()


def business_date(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def start_of_business_day(day: dt.date) -> dt.datetime:
    """The aware moment a business day begins, for comparing with timestamps."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

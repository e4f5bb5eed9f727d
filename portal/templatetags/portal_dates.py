"""Dates as people read them: the year only when it is not this year (business time)."""

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

from retention.clock import business_date, business_today

register = template.Library()


@register.filter
def short_date(value, weekday: bool = False) -> str:
    """"Mar 4" this year, "Mar 4, 2025" in another; with a weekday: "Tue, Mar 4"."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = business_date(value) if timezone.is_aware(value) else value.date()
    pattern = "D, M j" if weekday else "M j"
    if value.year != business_today().year:
        pattern += ", Y"
    return date_format(value, pattern)

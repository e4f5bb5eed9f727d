"""Dates as people read them: the year only when it is not this year (business time),
and `date_en`, Django's `date` filter for the formats the portal's pages use, without
its per-call translation and locale lookups.

Django's `date` costs 25-55 microseconds a value (each month and weekday name is a lazy
translation, each format a locale lookup); a page of 25 history lines or notifications
prints two dates a line, a tenth of the page's time. The site speaks one language
(LANGUAGE_CODE en-us, no LocaleMiddleware), so `date_en` spells the names in English
directly and gives the same text (tests/portal/test_portal_dates.py compares the two);
a format using anything else is passed to Django's filter.
"""

import datetime as dt
from functools import lru_cache

from django import template
from django.template.defaultfilters import date as django_date
from django.utils import timezone

from retention.clock import business_date, business_today

register = template.Library()

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Django's format characters that need only the date.
_DATE_PARTS = {
    "Y": lambda d: "%04d" % d.year,
    "m": lambda d: "%02d" % d.month,
    "d": lambda d: "%02d" % d.day,
    "j": lambda d: str(d.day),
    "M": lambda d: MONTHS[d.month - 1][:3],
    "F": lambda d: MONTHS[d.month - 1],
    "D": lambda d: WEEKDAYS[d.weekday()][:3],
    "l": lambda d: WEEKDAYS[d.weekday()],
    "c": lambda d: d.isoformat(),
}
# And those that need a time of day (a datetime).
_TIME_PARTS = {
    "g": lambda d: str(d.hour % 12 or 12),
    "H": lambda d: "%02d" % d.hour,
    "i": lambda d: "%02d" % d.minute,
    "a": lambda d: "p.m." if d.hour > 11 else "a.m.",
}
# Every character Django's `date` reads as a format character (dateformat.re_formatchars).
_DJANGO_FORMAT_CHARS = set("aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ")


@lru_cache(maxsize=64)
def _compiled(format_string: str) -> tuple[tuple, bool] | None:
    """The format as literal text and part functions, and whether it needs a time of
    day; None when it uses a character (or an escape) this module does not spell."""
    if "\\" in format_string:
        return None
    pieces, needs_time = [], False
    for char in format_string:
        if char in _DATE_PARTS:
            pieces.append(_DATE_PARTS[char])
        elif char in _TIME_PARTS:
            pieces.append(_TIME_PARTS[char])
            needs_time = True
        elif char in _DJANGO_FORMAT_CHARS:
            return None
        else:
            pieces.append(char)
    return tuple(pieces), needs_time


@register.filter(expects_localtime=True, is_safe=False)
def date_en(value, format_string: str) -> str:
    """`{{ value|date_en:"M j, Y" }}`: what `{{ value|date:"M j, Y" }}` prints, faster."""
    if value in (None, ""):
        return ""
    compiled = _compiled(format_string)
    if (
        compiled is None
        or not isinstance(value, dt.date)
        or (compiled[1] and not isinstance(value, dt.datetime))
    ):
        return django_date(value, format_string)
    return "".join(piece if isinstance(piece, str) else piece(value) for piece in compiled[0])


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
    return date_en(value, pattern)

"""`date_en` prints what Django's `date` filter prints, for every format the portal's
templates give it, in the business time zone; other formats go to Django's filter."""

import datetime as dt

import pytest
from django.template import engines

FORMATS = ["c", "Y-m-d", "M j", "M j, Y", "F j", "F j, Y", "l, F j", "l, F j, Y", "D, M j", "M j, Y, g:i a",
           "M j, Y H:i", "N j, Y", "jS F"]

MOMENTS = [
    dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC),  # the evening before, in New York
    dt.datetime(2026, 3, 8, 6, 59, 59, 123456, tzinfo=dt.UTC),  # DST starts
    dt.datetime(2026, 9, 9, 16, 5, tzinfo=dt.UTC),  # noon in New York
    dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),  # DST ends
    dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC),
    dt.datetime(999, 5, 4, 17, 0, tzinfo=dt.UTC),
]
DAYS = [dt.date(2026, 2, 1), dt.date(2026, 10, 28), dt.date(2027, 5, 9)]


def render(source: str, value) -> str:
    return engines["django"].from_string("{% load portal_dates %}" + source).render({"value": value})


@pytest.mark.parametrize("format_string", FORMATS)
def test_date_en_prints_what_django_date_prints(format_string):
    for value in MOMENTS + DAYS + [None, ""]:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and any(c in format_string for c in "gaHi"):
            continue  # a time of day of a date: Django's own error, not a page's case
        ours = render(f'{{{{ value|date_en:"{format_string}" }}}}', value)
        django = render(f'{{{{ value|date:"{format_string}" }}}}', value)
        assert ours == django, (format_string, value)


def test_short_date_leaves_out_this_years_year(time_machine):
    time_machine.move_to(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    assert render("{{ value|short_date }}", dt.date(2026, 3, 4)) == "Mar 4"
    assert render("{{ value|short_date:True }}", dt.date(2025, 3, 4)) == "Tue, Mar 4, 2025"

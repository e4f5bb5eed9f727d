"""Formatting a metrics table cell for people (the CSV export writes raw values)."""

import datetime as dt

from django import template
from django.utils import timezone

from ..report import format_percent

register = template.Library()


@register.filter
def metric_cell(value, kind: str) -> str:
    if value is None or value == "":
        return "–" if kind != "text" else ""
    if kind == "percent":
        return format_percent(value)
    if kind == "money":
        return f"${value:,.2f}"
    if kind == "datetime" and isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@register.filter
def cell_class(kind: str) -> str:
    return "num" if kind in {"int", "money", "percent"} else kind

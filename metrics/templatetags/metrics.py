"""Formatting a metrics table cell for people (the CSV export writes raw values), and
the page's repeated markup (table rows, chart bars and dots) written in Python: a
52-week page has thousands of cells, which the template language renders several
times slower than a join."""

import datetime as dt

from django import template
from django.template.defaultfilters import slugify
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..layout import format_percent

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


def _cells(row) -> str:
    return "".join(
        f'<td class="{escape(cell_class(kind))}{" status-" + escape(slugify(value)) if kind == "status" else ""}">'
        f"{escape(metric_cell(value, kind))}</td>"
        for value, kind in row
    )


@register.simple_tag
def table_rows(rows) -> SafeString:
    """<tr> of <td> for each row of (value, kind) cells, as metrics/_table.html wrote them."""
    return mark_safe("\n      ".join(f"<tr>{_cells(row)}</tr>" for row in rows))


@register.simple_tag
def chart_bars(bars) -> SafeString:
    return mark_safe(
        "".join(
            f'<rect class="bar" x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}" '
            f'fill="{escape(bar.color)}"><title>{escape(bar.title)}</title></rect>'
            for bar in bars
        )
    )


@register.simple_tag
def chart_dots(line) -> SafeString:
    return mark_safe(
        "".join(
            f'<circle class="dot" cx="{cx}" cy="{cy}" r="3" fill="{escape(line.color)}"><title>{escape(title)}</title></circle>'
            for cx, cy, title in line.dots
        )
    )

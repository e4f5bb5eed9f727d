"""The staff-only metrics page and its CSV exports: thin views over metrics.report."""

import csv
from functools import wraps

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render

from .periods import DEFAULT_WEEKS, WEEK_CHOICES, Period
from .report import build_page, build_table, csv_value


def staff_required(view):
    """Anonymous visitors go to the login page; logged-in customers and providers get 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied("Metrics are for staff.")
        return view(request, *args, **kwargs)

    return wrapper


def _period(request) -> Period:
    try:
        weeks = int(request.GET.get("weeks", DEFAULT_WEEKS))
    except ValueError:
        weeks = DEFAULT_WEEKS
    return Period.last(weeks if weeks in WEEK_CHOICES else DEFAULT_WEEKS)


@staff_required
def metrics_page(request):
    period = _period(request)
    sections, rollup_notice = build_page(period)
    context = {
        **admin.site.each_context(request),
        "title": "Retention metrics",
        "period": period,
        "week_choices": WEEK_CHOICES,
        "sections": sections,
        "rollup_notice": rollup_notice,
    }
    return render(request, "metrics/page.html", context)


@staff_required
def export_csv(request, table: str):
    period = _period(request)
    found = build_table(table, period)
    if found is None:
        raise Http404("No such table.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"retention-{found.slug}-{period.start}-to-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte order mark first: Excel then reads the file as UTF-8 (emoji in campaign
    # names survive) instead of the system's legacy code page.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [column.name + (" (%)" if column.kind == "percent" else "") for column in found.columns]
    )
    for row in found.csv_rows:
        writer.writerow(
            [csv_value(value, column.kind) for value, column in zip(row, found.columns)]
        )
    return response

"""The staff preview of the service-due and win-back emails, built by the jobs' own
context functions from sample values."""

import datetime as dt

from django.urls import reverse

from outbox.consent import Kind
from outbox.preview import SAMPLE_TODAY, Sample, register_sample
from retention.links import absolute_url, booking_url

from . import service_due
from .winback import TEMPLATE as WINBACK_TEMPLATE
from .winback import WinbackRun


def service_due_sample() -> Sample:
    contents = (
        ("Lawn Care", SAMPLE_TODAY + dt.timedelta(days=2), "Green Thumb Lawn Co.", "(555) 014-2000", "lawn-care"),
        ("Pest Control", SAMPLE_TODAY - dt.timedelta(days=4), "No Bugs Inc.", "555-0177", "pest-control"),
    )
    context = service_due.email_context(
        contents, SAMPLE_TODAY, services_url=absolute_url(reverse("portal:services"))
    )
    return Sample(
        context,
        key_values=(
            "Lawn Care", "in 2 days", "Green Thumb Lawn Co.", "(555) 014-2000", "Pest Control", "4 days overdue",
            "No Bugs Inc.", booking_url(service="lawn-care", absolute=True), context["services_url"],
        ),
    )


def winback_sample() -> Sample:
    run = WinbackRun(as_of=SAMPLE_TODAY)
    code = "WB7XK4M2QPZD"
    book_url = booking_url(code=code, absolute=True)
    return Sample(
        run.email_context(code=code, book_url=book_url),
        key_values=(run.label, code, f"{run.valid_through:%B} {run.valid_through.day}", book_url),
    )


def register_samples() -> None:
    register_sample(service_due.TEMPLATE, Kind.REMINDER, service_due_sample)
    register_sample(WINBACK_TEMPLATE, Kind.MARKETING, winback_sample)

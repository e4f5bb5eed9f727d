"""The "add to calendar" file of a booked job: one all-day iCalendar event (RFC 5545),
built with the icalendar library so escaping, folding and line endings are right."""

import datetime as dt

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event

from retention.models import Job


def job_calendar(job: Job) -> bytes:
    """An .ics file with one all-day event on the job's date; its UID is the job's."""
    calendar = Calendar()
    calendar.add("prodid", "-//HomeServices//Retention//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"job-{job.pk}@homeservices")
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    event.add("dtstart", job.scheduled_for)
    event.add("dtend", job.scheduled_for + dt.timedelta(days=1))
    event.add("summary", f"{job.service_type.name} with {job.provider.business_name}")
    event.add(
        "description",
        f"{job.service_type.name} by {job.provider.business_name} (phone {job.provider.phone}). "
        f"Price ${job.amount_paid}.",
    )
    event.add("url", settings.SITE_URL + reverse("portal:jobs"))
    calendar.add_component(event)
    return calendar.to_ical()

"""The staff preview of the plan emails, built by the context function the real sends
call (plans.visits.visit_email_context) from sample values."""

import datetime as dt
from decimal import Decimal

from outbox.consent import Kind
from outbox.preview import SAMPLE_TODAY, Sample, register_sample

from .visits import TEMPLATE as VISIT_BOOKED_TEMPLATE
from .visits import visit_email_context

SUBSCRIBED_TEMPLATE = "plan_subscribed"


def visit_sample() -> Sample:
    context = visit_email_context(
        plan_name="Weekly pool care", interval_days=7, service="Pool Service",
        day=SAMPLE_TODAY + dt.timedelta(days=14), provider="Green Thumb Lawn Co.", price=Decimal("76.50"),
    )
    return Sample(
        context,
        key_values=("Weekly pool care", context["visit_on"], "Green Thumb Lawn Co.", "$76.50", context["plans_url"]),
    )


def register_samples() -> None:
    register_sample(VISIT_BOOKED_TEMPLATE, Kind.TRANSACTIONAL, visit_sample)
    register_sample(SUBSCRIBED_TEMPLATE, Kind.TRANSACTIONAL, visit_sample)

"""The staff preview of the seasonal email, built by the job's own context function
(campaigns.seasonal.SeasonalRun.email_context) from a sample campaign."""

import datetime as dt

from django.utils import timezone

from outbox.consent import Kind
from outbox.preview import SAMPLE_TODAY, Sample, register_sample
from retention.links import absolute_url
from retention.models import ServiceType

from .models import Campaign
from .seasonal import EMAIL_TEMPLATE, SeasonalRun


def seasonal_offer_sample() -> Sample:
    campaign = Campaign(
        season=Campaign.Season.SPRING, title="Spring refresh", discount_percent=20, promo_valid_days=30,
        description="Get your yard and home ready for the season.\nBook by the end of the month.",
        start_month=3, end_month=5,
    )
    run = SeasonalRun(
        campaign=campaign,
        season_year=SAMPLE_TODAY.year,
        as_of=SAMPLE_TODAY,
        moment=timezone.make_aware(dt.datetime.combine(SAMPLE_TODAY, dt.time(10))),
        service_types=(ServiceType(name="Lawn Care", slug="lawn-care"),),
    )
    code = "SPRG7XK4M2QP"
    book_url = absolute_url(run.booking_path(code))
    context = run.email_context(code=code, book_url=book_url)
    return Sample(
        context,
        key_values=(campaign.title, "20% off Lawn Care", code, context["valid_through"], book_url, "Book by the end"),
    )


def register_samples() -> None:
    register_sample(EMAIL_TEMPLATE, Kind.MARKETING, seasonal_offer_sample)

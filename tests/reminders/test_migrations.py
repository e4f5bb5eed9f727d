"""The data step of reminders 0004: existing win-back sends get sent_on from sent_at."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from reminders.models import WinbackSend
from tests.factories import CustomerFactory, PromoCodeFactory

add_sent_on = importlib.import_module("reminders.migrations.0004_winbacksend_sent_on")


@pytest.mark.django_db
def test_existing_sends_get_the_business_date_of_sent_at(settings):
    settings.TIME_ZONE = "America/New_York"
    customer = CustomerFactory()
    # 23:30 on June 14 in New York is already June 15 in UTC.
    late = WinbackSend.objects.create(
        customer=customer, promo_code=PromoCodeFactory(customer=customer), sent_on=dt.date(2000, 1, 1),
        sent_at=dt.datetime(2026, 6, 15, 3, 30, tzinfo=dt.UTC),
    )
    other = CustomerFactory()
    noon = WinbackSend.objects.create(
        customer=other, promo_code=PromoCodeFactory(customer=other), sent_on=dt.date(2000, 1, 1),
        sent_at=timezone.make_aware(dt.datetime(2026, 3, 2, 12)),
    )
    add_sent_on.fill_sent_on(apps, None)
    late.refresh_from_db()
    noon.refresh_from_db()
    assert late.sent_on == dt.date(2026, 6, 14)
    assert noon.sent_on == dt.date(2026, 3, 2)

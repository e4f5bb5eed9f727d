"""seed_demo's campaigns: one per season, so one is always running."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from campaigns.models import SEASONAL_SOURCE, Campaign, CampaignSend
from campaigns.selectors import campaign_for_month
from retention.models import PromoCode


def seed():
    call_command("seed_demo", stdout=open("/dev/null", "w"))


def test_a_campaign_per_season_covering_every_month(db):
    seed()
    seed()
    assert sorted(Campaign.objects.values_list("season", flat=True)) == ["fall", "spring", "summer", "winter"]
    assert all(campaign_for_month(month) is not None for month in range(1, 13))
    assert Campaign.objects.get(season="winter").months == {12, 1, 2}


@pytest.mark.parametrize("day", [dt.date(2027, 1, 15), dt.date(2027, 7, 1)])
def test_the_demo_customer_has_a_code_from_the_running_campaign(db, day):
    with time_machine.travel(dt.datetime.combine(day, dt.time(15), tzinfo=dt.UTC), tick=False):
        seed()
        seed()
        send = CampaignSend.objects.select_related("campaign", "promo_code").get(customer__user__email="demo@example.com")
        assert send.campaign == campaign_for_month(day.month)
        assert send.promo_code.is_active()
        demo_codes = PromoCode.objects.filter(customer__user__email="demo@example.com")
        assert demo_codes.filter(source=SEASONAL_SOURCE).count() == 1

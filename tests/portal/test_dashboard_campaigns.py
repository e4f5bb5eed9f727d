"""The SeasonalBanner and the PromoBanner on the customer dashboard."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import SEASONAL_SOURCE
from loyalty.models import VOUCHER_SOURCE
from tests.factories import CampaignFactory, CampaignSendFactory, PromoCodeFactory

DASHBOARD = "/customer-portal/"


@pytest.fixture
def running(service_types):
    return CampaignFactory(
        season="winter", title="Winter Comfort", discount_percent=20, start_month=1, end_month=12,
        service_types=[service_types["hvac"]],
    )


def test_the_banner_shows_the_season_title_discount_and_my_code(customer_client, customer, running):
    send = CampaignSendFactory(
        campaign=running, customer=customer, season_year=running.season_year(timezone.localdate())
    )
    page = customer_client.get(DASHBOARD).content.decode()
    assert 'data-testid="seasonal-banner"' in page
    assert "❄️" in page and "Winter Comfort" in page and "20% off" in page
    assert f'data-testid="seasonal-code" style="font-weight:700;letter-spacing:.05em;">{send.promo_code.code}<' in page
    assert f'href="/customer-portal/book/?service=hvac&amp;code={send.promo_code.code}"' in page


def test_the_banner_without_a_code_links_to_booking_the_campaigns_service(customer_client, running):
    page = customer_client.get(DASHBOARD).content.decode()
    assert 'data-testid="seasonal-banner"' in page
    assert 'data-testid="seasonal-code"' not in page
    assert 'href="/customer-portal/book/?service=hvac" data-testid="schedule-services"' in page


def test_the_banner_says_when_my_code_was_used(customer_client, customer, running):
    CampaignSendFactory(
        campaign=running, customer=customer, season_year=running.season_year(timezone.localdate()),
        promo_code__used_at=timezone.now(),
    )
    page = customer_client.get(DASHBOARD).content.decode()
    assert 'data-testid="seasonal-code-used"' in page


def test_no_campaign_no_banner(customer_client, db):
    page = customer_client.get(DASHBOARD).content.decode()
    assert 'data-testid="seasonal-banner"' not in page


def test_the_promo_banner_lists_my_active_codes_and_vouchers_with_expiry(customer_client, customer, other_customer, lawn):
    soon = timezone.now() + dt.timedelta(days=3)
    voucher = PromoCodeFactory(
        customer=customer, source=VOUCHER_SOURCE, discount_type="amount", discount_value=10, expires_at=soon
    )
    seasonal = PromoCodeFactory(customer=customer, source=SEASONAL_SOURCE, service_types=[lawn])
    used = PromoCodeFactory(customer=customer, used_at=timezone.now())
    expired = PromoCodeFactory(customer=customer, expires_at=timezone.now() - dt.timedelta(hours=1))
    theirs = PromoCodeFactory(customer=other_customer)
    page = customer_client.get(DASHBOARD).content.decode()
    assert 'data-testid="promo-banner"' in page
    assert page.index(voucher.code) < page.index(seasonal.code)  # soonest to expire first
    assert "$10.00 off" in page and "20% off Lawn Care" in page
    assert timezone.localtime(soon).strftime("%b %-d, %Y") in page
    for hidden in (used, expired, theirs):
        assert hidden.code not in page


def test_no_active_codes_no_promo_banner(customer_client, customer):
    PromoCodeFactory(customer=customer, used_at=timezone.now())
    assert 'data-testid="promo-banner"' not in customer_client.get(DASHBOARD).content.decode()


def test_the_banners_cost_the_same_queries_however_many_codes(customer_client, customer, running, service_types):
    CampaignSendFactory(campaign=running, customer=customer, season_year=running.season_year(timezone.localdate()))
    customer_client.get(DASHBOARD)  # the day's first view records the recommendations it shows
    with CaptureQueriesContext(connection) as one:
        customer_client.get(DASHBOARD)
    for _ in range(6):
        PromoCodeFactory(customer=customer, service_types=list(service_types.values()))
    with CaptureQueriesContext(connection) as seven:
        page = customer_client.get(DASHBOARD).content.decode()
    # Five named (soonest to expire first), the other two counted and linked.
    assert page.count('data-testid="promo-code"') == 5
    assert re.search(r'data-testid="promo-more"><a href="/customer-portal/book/">2 more codes</a>', page)
    assert len(seven) == len(one)

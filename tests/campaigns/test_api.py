"""GET /api/customer/seasonal-campaign, exactly as PRODUCT.md gives it."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import CampaignFactory, CampaignSendFactory, PromoCodeFactory

URL = "/api/customer/seasonal-campaign"


@pytest.fixture
def running(service_types):
    """A campaign covering every month, so the test does not depend on today's date."""
    return CampaignFactory(
        season="fall", title="Fall Tune-Up", description="Get ready for winter.", discount_percent=15,
        start_month=1, end_month=12, service_types=[service_types["hvac"], service_types["lawn-care"]],
    )


def test_the_campaign_with_my_code(customer_client, customer, running):
    send = CampaignSendFactory(
        campaign=running, customer=customer, season_year=running.season_year(timezone.localdate())
    )
    body = customer_client.get(URL).json()
    assert body == {
        "campaign": {
            "id": str(running.id),
            "season": "fall",
            "emoji": "🍂",
            "title": "Fall Tune-Up",
            "description": "Get ready for winter.",
            "discountPercent": 15,
            "serviceTypes": ["HVAC", "Lawn Care"],
            "promoCode": send.promo_code.code,
            "promoExpiresAt": send.promo_code.expires_at.isoformat(),
        }
    }


def test_without_a_code_for_this_campaign_the_code_is_null(customer_client, customer, running):
    PromoCodeFactory(customer=customer)  # a code, but not this campaign's
    campaign = customer_client.get(URL).json()["campaign"]
    assert campaign["promoCode"] is None and campaign["promoExpiresAt"] is None


def test_a_used_code_is_not_offered(customer_client, customer, running):
    CampaignSendFactory(
        campaign=running, customer=customer, season_year=running.season_year(timezone.localdate()),
        promo_code__used_at=timezone.now() - dt.timedelta(days=1),
    )
    assert customer_client.get(URL).json()["campaign"]["promoCode"] is None


def test_another_customers_code_is_never_shown(customer_client, other_customer, running):
    CampaignSendFactory(campaign=running, customer=other_customer, season_year=running.season_year(timezone.localdate()))
    assert customer_client.get(URL).json()["campaign"]["promoCode"] is None


def test_no_campaign_this_month_is_null(customer_client, db):
    month = timezone.localdate().month
    other = month % 12 + 1
    CampaignFactory(start_month=other, end_month=other)
    assert customer_client.get(URL).json() == {"campaign": None}


def test_anonymous_gets_401_json(client, db):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_provider_gets_403(provider_client):
    assert provider_client.get(URL).status_code == 403


def test_the_endpoint_is_in_the_openapi_document(client, db):
    schema = client.get("/api/openapi.json").json()
    assert "/api/customer/seasonal-campaign" in schema["paths"]
    props = schema["components"]["schemas"]["SeasonalCampaignBody"]["properties"]
    assert set(props) == {
        "id", "season", "emoji", "title", "description", "discountPercent", "serviceTypes", "promoCode",
        "promoExpiresAt",
    }

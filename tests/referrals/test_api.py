"""GET /api/customer/referrals: the contract in PRODUCT.md, the customer's own rows only."""

import pytest
from django.test import Client

from referrals.models import Referral, ReferralCode
from tests.factories import CustomerFactory, JobFactory

from .conftest import complete, post_sign_up

pytestmark = pytest.mark.django_db
URL = "/api/customer/referrals"


def test_anonymous_gets_401_json(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_provider_gets_403(client, provider):
    client.force_login(provider.user)
    assert client.get(URL).status_code == 403


def test_the_advocates_code_link_offer_and_referrals(client, advocate, code, friend, provider, lawn, settings):
    settings.SITE_URL = "https://retention.example.com"
    complete(JobFactory(customer=friend, provider=provider, service_type=lawn))
    post_sign_up(Client(), code, name="Greta Garden", email="greta@example.org", ip="198.51.100.77")
    client.force_login(advocate.user)

    body = client.get(URL).json()

    assert body["code"] == code and len(code) == 9
    assert body["url"] == f"https://retention.example.com/r/{code}"
    assert body["friendOffer"] == "$20 off your first service"
    assert body["advocatePoints"] == 500
    greta, fred = body["referrals"]  # newest first
    assert (greta["friendName"], greta["status"], greta["rewardedAt"], greta["points"]) == ("Greta", "joined", None, 0)
    assert (fred["friendName"], fred["status"], fred["points"]) == ("Fred", "rewarded", 500)
    assert fred["joinedAt"] and fred["rewardedAt"]
    assert set(fred) == {"friendName", "status", "joinedAt", "rewardedAt", "points"}


def test_blocked_and_cancelled_referrals_show_as_blocked(client, advocate, code):
    post_sign_up(Client(), code, name="Ada Advocate", email="twin@example.org")
    client.force_login(advocate.user)
    assert [r["status"] for r in client.get(URL).json()["referrals"]] == ["blocked"]
    Referral.objects.update(status=Referral.Status.CANCELLED)
    assert [r["status"] for r in client.get(URL).json()["referrals"]] == ["blocked"]


def test_another_customers_referrals_are_never_visible(client, advocate, friend):
    other = CustomerFactory(user__email="olga@example.com", user__name="Olga Other")
    client.force_login(other.user)
    body = client.get(URL).json()
    assert body["referrals"] == []
    assert body["code"] == ReferralCode.objects.get(pk=other.pk).code != ReferralCode.objects.get(pk=advocate.pk).code
    # Nor on the dashboard.
    page = client.get("/customer-portal/").content.decode()
    assert 'data-testid="referral-joined">0<' in page


def test_the_endpoint_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/customer/referrals" in paths

"""GET /api/customer/loyalty and /api/customer/loyalty/rewards: the PRODUCT.md contract."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.models import Reward
from loyalty.services import redeem_reward
from tests.factories import RewardFactory


def test_loyalty_for_a_new_customer(customer_client):
    body = customer_client.get("/api/customer/loyalty").json()
    assert body == {
        "points": 0,
        "lifetimePoints": 0,
        "tier": {"key": "bronze", "name": "Bronze", "multiplier": 1.0},
        "nextTier": {"key": "silver", "name": "Silver", "threshold": 1000, "pointsNeeded": 1000},
        "progressPercent": 0,
        "transactions": [],
    }


def test_loyalty_shows_balance_tier_progress_and_transactions_newest_first(
    customer_client, customer, complete, grant
):
    complete(customer, "1000.00")
    job = complete(customer, "750.00").job  # Silver: 750 + 37 bonus
    redeem_reward(customer=customer, reward_id=RewardFactory(points_cost=500).pk)
    grant(customer, 5)
    body = customer_client.get("/api/customer/loyalty").json()
    assert body["points"] == 1000 + 787 - 500 + 5
    assert body["lifetimePoints"] == 1787
    assert body["tier"] == {"key": "silver", "name": "Silver", "multiplier": 1.05}
    assert body["nextTier"] == {"key": "gold", "name": "Gold", "threshold": 2500, "pointsNeeded": 713}
    assert body["progressPercent"] == 52  # 787 of the 1,500 between Silver and Gold
    assert [(t["type"], t["points"]) for t in body["transactions"]] == [
        ("adjustment", 5),
        ("redeem", -500),
        ("tier_bonus", 37),
        ("earn", 750),
        ("earn", 1000),
    ]
    bonus = body["transactions"][2]
    assert bonus["jobId"] == str(job.pk)
    assert set(bonus) == {"id", "points", "type", "description", "createdAt", "jobId"}
    assert body["transactions"][1]["jobId"] is None


def test_platinum_has_no_next_tier(customer_client, customer, complete):
    complete(customer, "6000.00")
    body = customer_client.get("/api/customer/loyalty").json()
    assert body["tier"]["key"] == "platinum"
    assert body["nextTier"] is None
    assert body["progressPercent"] == 100


def test_another_customers_points_are_never_visible(customer_client, customer, other_customer, complete):
    complete(other_customer, "300.00")
    complete(customer, "20.00")
    body = customer_client.get("/api/customer/loyalty").json()
    assert body["points"] == 20
    assert [t["points"] for t in body["transactions"]] == [20]


def test_rewards_are_active_only_cheapest_first_with_affordability(customer_client, customer, grant, lawn):
    grant(customer, 250)
    expensive = RewardFactory(name="Big", points_cost=900)
    RewardFactory(name="Hidden", points_cost=10, active=False)
    exact = RewardFactory(
        name="Free lawn", points_cost=250, reward_type=Reward.RewardType.FREE_SERVICE,
        reward_value=Decimal("65.00"), service_type=lawn,
    )
    cheap = RewardFactory(name="Cheap", points_cost=50, reward_type=Reward.RewardType.PERCENT_OFF, reward_value=Decimal("15"))
    body = customer_client.get("/api/customer/loyalty/rewards").json()
    assert body["rewards"] == [
        {"id": str(cheap.pk), "name": "Cheap", "description": cheap.description, "pointsCost": 50,
         "rewardType": "percent_off", "rewardValue": "15.00", "affordable": True},
        {"id": str(exact.pk), "name": "Free lawn", "description": exact.description, "pointsCost": 250,
         "rewardType": "free_service", "rewardValue": "65.00", "affordable": True},
        {"id": str(expensive.pk), "name": "Big", "description": expensive.description, "pointsCost": 900,
         "rewardType": "amount_off", "rewardValue": "10.00", "affordable": False},
    ]


def test_the_openapi_document_has_the_loyalty_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "get" in paths["/api/customer/loyalty"]
    assert "get" in paths["/api/customer/loyalty/rewards"]
    redeem = paths["/api/customer/loyalty/redeem"]["post"]
    assert {"200", "400", "401", "404"} <= set(redeem["responses"])


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/api/customer/loyalty", "/api/customer/loyalty/rewards"])
def test_query_counts_are_the_same_for_1_and_200_ledger_entries(
    customer_client, customer, grant, url, django_assert_num_queries
):
    RewardFactory.create_batch(6)
    grant(customer, 1)
    one = _queries(customer_client, url)
    for _ in range(199):
        grant(customer, 1)
    # session, user, customer, then the loyalty reads: a fixed number however long the ledger.
    with django_assert_num_queries(one):
        customer_client.get(url)
    assert one <= 5

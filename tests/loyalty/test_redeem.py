"""Redeeming rewards: one atomic step, through the service and POST /api/customer/loyalty/redeem."""

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from actions.jobs import book_job
from loyalty.emails import REWARDS_URL
from loyalty.models import (
    REDEMPTION_NOTICE,
    VOUCHER_SOURCE,
    LoyaltyAccount,
    PointsEntry,
    Redemption,
    Reward,
)
from loyalty.services import InsufficientPoints, RewardNotFound, redeem_reward
from outbox.models import OutboundEmail
from retention.models import Notification, PromoCode
from tests.factories import RewardFactory

from .conftest import assert_ledger_consistent

URL = "/api/customer/loyalty/redeem"


def post(client, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data, content_type="application/json")


def snapshot():
    """Everything a redemption could touch."""
    return {
        "accounts": sorted(LoyaltyAccount.objects.values_list("pk", "points", "lifetime_points", "tier")),
        "entries": PointsEntry.objects.count(),
        "redemptions": Redemption.objects.count(),
        "promo_codes": PromoCode.objects.count(),
        "notifications": Notification.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }


def test_redeeming_deducts_writes_the_ledger_issues_a_voucher_notifies_and_queues_email(
    customer_client, customer, grant
):
    grant(customer, 300)
    reward = RewardFactory(name="$25 off", points_cost=250, reward_value=Decimal("25.00"), voucher_valid_days=60)
    moment = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        response = post(customer_client, {"rewardId": str(reward.pk)})
    assert response.status_code == 200
    body = response.json()
    redemption = Redemption.objects.get()
    voucher = redemption.voucher
    # The end of the business day (New York) 60 days after June 1: July 31.
    expires_at = dt.datetime.fromisoformat(body["redemption"].pop("expiresAt"))
    assert expires_at == dt.datetime(2026, 8, 1, 3, 59, 59, 999999, tzinfo=dt.UTC)
    assert body == {
        "success": True,
        "points": 50,
        "redemption": {
            "id": str(redemption.pk),
            "rewardId": str(reward.pk),
            "pointsSpent": 250,
            "voucherCode": voucher.code,
        },
    }
    entry = PointsEntry.objects.get(type=PointsEntry.Type.REDEEM)
    assert (entry.points, entry.redemption_id, entry.description) == (-250, redemption.pk, "Redeemed $25 off")
    assert entry.created_at == redemption.created_at == moment
    account = assert_ledger_consistent(customer)
    assert (account.points, account.lifetime_points) == (50, 0)  # redeeming never lowers lifetime points

    assert voucher.customer_id == customer.pk
    assert voucher.source == VOUCHER_SOURCE
    assert (voucher.discount_type, voucher.discount_value) == (PromoCode.DiscountType.AMOUNT, Decimal("25.00"))
    note = Notification.objects.get(kind=REDEMPTION_NOTICE)
    assert note.customer_id == customer.pk and voucher.code in note.message and note.action_url == REWARDS_URL
    email = OutboundEmail.objects.get(template="loyalty_redemption")
    assert email.kind == OutboundEmail.Kind.TRANSACTIONAL
    assert email.idempotency_key == f"redemption/{redemption.pk}"
    assert voucher.code in email.text_body and voucher.code in email.html_body and voucher.code in email.subject
    assert "Points left: 50" in email.text_body


def test_the_reward_redeemed_is_the_one_asked_for(customer, grant):
    grant(customer, 300)
    rewards = [RewardFactory(name="$10 off", points_cost=100), RewardFactory(name="$15 off", points_cost=150)]
    redemptions = [redeem_reward(customer=customer, reward_id=reward.pk).redemption for reward in rewards]
    assert [redemption.reward for redemption in redemptions] == rewards
    for redemption in redemptions:  # the redemption and its ledger line: one moment
        assert redemption.created_at == PointsEntry.objects.get(redemption=redemption).created_at


def test_the_voucher_is_usable_at_booking(customer, grant, provider, lawn):
    grant(customer, 100)
    reward = RewardFactory(points_cost=100, reward_type=Reward.RewardType.PERCENT_OFF, reward_value=Decimal("20"))
    code = redeem_reward(customer=customer, reward_id=reward.pk).redemption.voucher.code
    job = book_job(
        customer=customer,
        service_type=lawn,
        scheduled_for=timezone.localdate() + dt.timedelta(days=2),
        promo_code_text=code.lower(),
    )
    assert job.amount_paid == Decimal("52.00")  # $65 less 20%


def test_a_free_service_voucher_covers_that_service_only(customer, grant, lawn, service_types, django_assert_num_queries):
    grant(customer, 400)
    reward = RewardFactory(
        points_cost=400, reward_type=Reward.RewardType.FREE_SERVICE, reward_value=Decimal("65"), service_type=lawn
    )
    with django_assert_num_queries(14):  # the reward is read with its service, in one query
        voucher = redeem_reward(customer=customer, reward_id=reward.pk).redemption.voucher
    assert list(voucher.service_types.all()) == [lawn]
    assert voucher.discounted(lawn.base_price) == Decimal("0.00")


def test_insufficient_points_changes_nothing(customer_client, customer, grant):
    grant(customer, 99)
    reward = RewardFactory(points_cost=100)
    before = snapshot()
    response = post(customer_client, {"rewardId": str(reward.pk)})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "insufficient_points"
    assert snapshot() == before


def test_a_customer_without_an_account_has_insufficient_points(customer_client):
    reward = RewardFactory(points_cost=1)
    before = snapshot()
    response = post(customer_client, {"rewardId": str(reward.pk)})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "insufficient_points")
    assert snapshot() == before


@pytest.mark.parametrize("which", ["unknown", "inactive"])
def test_unknown_or_inactive_reward_is_404_and_changes_nothing(customer_client, customer, grant, which):
    grant(customer, 1000)
    reward_id = uuid.uuid4() if which == "unknown" else RewardFactory(active=False).pk
    before = snapshot()
    response = post(customer_client, {"rewardId": str(reward_id)})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "reward_not_found"
    assert snapshot() == before


@pytest.mark.parametrize(
    "body", [{"rewardId": "not-a-uuid"}, {}, {"rewardId": 12}, {"reward": "x"}, "not json", "[]"]
)
def test_malformed_requests_are_400_invalid_request_and_change_nothing(customer_client, customer, grant, body):
    grant(customer, 1000)
    RewardFactory(points_cost=10)
    before = snapshot()
    response = post(customer_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert snapshot() == before


def test_a_failure_midway_rolls_everything_back(customer, grant, monkeypatch):
    """If anything after the deduction fails (here: queuing the email), the points come back."""
    grant(customer, 500)
    reward = RewardFactory(points_cost=100)
    before = snapshot()

    def broken(**kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("loyalty.services.queue_email", broken)
    with pytest.raises(RuntimeError):
        redeem_reward(customer=customer, reward_id=reward.pk)
    assert snapshot() == before


def test_service_errors(customer, grant):
    """Their messages are shown to the customer as they are."""
    with pytest.raises(RewardNotFound, match=r"^That reward isn't available\.$"):
        redeem_reward(customer=customer, reward_id=uuid.uuid4())
    with pytest.raises(InsufficientPoints, match=r"^Gift card costs 1,500 points; you don't have enough yet\.$"):
        redeem_reward(customer=customer, reward_id=RewardFactory(name="Gift card", points_cost=1500).pk)


def test_anonymous_is_401_and_a_provider_is_403(client, provider):
    reward = RewardFactory()
    for method, url in [
        ("get", "/api/customer/loyalty"),
        ("get", "/api/customer/loyalty/rewards"),
        ("post", URL),
    ]:
        kwargs = {"data": json.dumps({"rewardId": str(reward.pk)}), "content_type": "application/json"} if method == "post" else {}
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "not_authenticated"
    client.force_login(provider.user)
    assert client.get("/api/customer/loyalty").status_code == 403
    assert PointsEntry.objects.count() == 0


def test_redeeming_without_a_csrf_token_is_refused(customer, grant):
    grant(customer, 500)
    reward = RewardFactory(points_cost=100)
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer.user)
    before = snapshot()
    response = post(client, {"rewardId": str(reward.pk)})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert snapshot() == before

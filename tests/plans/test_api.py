"""The plans JSON API: list, subscribe, skip/pause/resume/cancel; clear 4xx on bad
input, nothing changes, and a customer reaches only their own subscriptions."""

import datetime as dt

import pytest

from plans.actions import subscribe
from plans.models import Subscription
from retention.models import Job

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


def test_list_plans_and_subscriptions(customer_client, customer, provider, pool_plan, pest_plan):
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY + dt.timedelta(days=2))
    body = customer_client.get("/api/customer/plans").json()
    assert [p["name"] for p in body["plans"]] == ["Quarterly pest control", "Weekly pool care"]
    assert body["plans"][1] == {
        "id": str(pool_plan.pk), "name": "Weekly pool care", "serviceType": "Pool Service",
        "intervalDays": 7, "discountPercent": 10, "bonusPointsPercent": 20,
    }
    assert body["subscriptions"] == [{
        "id": str(subscription.pk), "planId": str(pool_plan.pk), "planName": "Weekly pool care",
        "status": "active", "nextVisit": (TODAY + dt.timedelta(days=2)).isoformat(), "nextVisitBooked": True,
    }]


def test_subscribe_then_skip_pause_resume_cancel(customer_client, provider, pool_plan):
    response = post(customer_client, "/api/customer/plans/subscribe", {"planId": str(pool_plan.pk), "startDate": TODAY.isoformat()})
    assert response.status_code == 200, response.content
    sub = response.json()["subscription"]
    assert sub["nextVisit"] == TODAY.isoformat()
    url = f"/api/customer/subscriptions/{sub['id']}"
    skipped = post(customer_client, f"{url}/skip").json()["subscription"]
    assert skipped["nextVisit"] == (TODAY + dt.timedelta(days=7)).isoformat() and skipped["nextVisitBooked"]
    assert post(customer_client, f"{url}/pause").json()["subscription"]["status"] == "paused"
    assert post(customer_client, f"{url}/pause").status_code == 200  # idempotent
    assert post(customer_client, f"{url}/resume").json()["subscription"]["status"] == "active"
    assert post(customer_client, f"{url}/cancel").json()["subscription"] == {
        **sub, "status": "cancelled", "nextVisit": None, "nextVisitBooked": False,
    }


def state():
    return (
        list(Subscription.objects.order_by("pk").values_list("status", flat=True)),
        list(Job.objects.order_by("pk").values_list("status", flat=True)),
    )


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"planId": "00000000-0000-0000-0000-000000000000", "startDate": TODAY.isoformat()}, 404, "plan_not_found"),
        ({"planId": "nope", "startDate": TODAY.isoformat()}, 404, "plan_not_found"),
        ({"planId": "PLAN", "startDate": (TODAY - dt.timedelta(days=1)).isoformat()}, 400, "invalid_date"),
        ({"planId": "PLAN", "startDate": "tomorrow"}, 400, "invalid_request"),
        ({"planId": "PLAN"}, 400, "invalid_request"),
    ],
)
def test_bad_subscribe_input_is_a_clear_error_and_changes_nothing(customer_client, provider, pool_plan, body, status, code):
    body = {k: (str(pool_plan.pk) if v == "PLAN" else v) for k, v in body.items()}
    response = post(customer_client, "/api/customer/plans/subscribe", body)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert state() == ([], [])


def test_another_customers_subscription_is_404_and_unchanged(client, customer, other_customer, provider, pool_plan):
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    before = state()
    client.force_login(other_customer.user)
    for action in ("skip", "pause", "resume", "cancel"):
        response = post(client, f"/api/customer/subscriptions/{subscription.pk}/{action}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "subscription_not_found"
    assert client.get("/api/customer/plans").json()["subscriptions"] == []
    assert state() == before


def test_an_unknown_action_is_404(customer_client, customer, provider, pool_plan):
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    assert post(customer_client, f"/api/customer/subscriptions/{subscription.pk}/upgrade").status_code == 404


def test_not_logged_in_is_401_and_a_provider_403(client, provider):
    assert client.get("/api/customer/plans").status_code == 401
    client.force_login(provider.user)
    assert client.get("/api/customer/plans").status_code == 403

"""Every customer sees only their own data; providers only their own jobs."""

import json
import uuid

import pytest

from tests.factories import JobFactory, NotificationFactory, ProviderFactory


@pytest.fixture
def others_job(other_customer, service_types):
    other_provider = ProviderFactory(service_types=[service_types["lawn-care"]])
    return JobFactory(customer=other_customer, provider=other_provider, service_type=service_types["lawn-care"])


def test_jobs_page_lists_only_the_customers_own_jobs(customer_client, customer, provider, lawn, others_job):
    mine = JobFactory(customer=customer, provider=provider, service_type=lawn)
    html = customer_client.get("/customer-portal/jobs/").content.decode()
    assert html.count('data-testid="job-row"') == 1
    assert mine.provider.business_name in html
    assert others_job.provider.business_name not in html


def test_notifications_are_private(customer_client, customer, other_customer):
    NotificationFactory(customer=customer, title="Mine")
    theirs = NotificationFactory(customer=other_customer, title="Theirs")
    page = customer_client.get("/customer-portal/notifications/").content.decode()
    assert "Mine" in page and "Theirs" not in page
    data = customer_client.get("/api/customer/notifications").json()
    assert [n["title"] for n in data["notifications"]] == ["Mine"]
    # Marking another customer's notification read does nothing to it.
    response = customer_client.post(
        "/api/customer/notifications/read", json.dumps({"ids": [str(theirs.id)]}), content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["marked"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_provider_cannot_complete_another_providers_job(provider_client, others_job):
    response = provider_client.patch(
        f"/api/provider/jobs/{others_job.id}", json.dumps({"status": "completed"}), content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    page = provider_client.post(f"/provider-portal/jobs/{others_job.id}/complete/", {"amount": "10"})
    assert page.status_code == 404
    others_job.refresh_from_db()
    assert others_job.status == "scheduled"


def test_provider_api_lists_only_own_jobs(provider_client, provider, customer, lawn, others_job):
    mine = JobFactory(customer=customer, provider=provider, service_type=lawn)
    data = provider_client.get("/api/provider/jobs?status=scheduled").json()
    assert [j["id"] for j in data["jobs"]] == [str(mine.id)]
    assert data["jobs"][0] == {
        "id": str(mine.id),
        "customer": {"name": "Casey Customer"},
        "serviceType": "Lawn Care",
        "scheduledFor": mine.scheduled_for.isoformat(),
        "status": "scheduled",
        "price": "65.00",
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/customer/notifications"),
        ("post", "/api/customer/notifications/read"),
        ("get", "/api/provider/jobs"),
        ("patch", f"/api/provider/jobs/{uuid.uuid4()}"),
    ],
)
def test_anonymous_api_calls_get_401_json(client, db, method, path):
    response = getattr(client, method)(path, "{}", content_type="application/json") if method != "get" else client.get(path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_authenticated"


def test_customer_gets_403_on_provider_api(customer_client):
    response = customer_client.get("/api/provider/jobs")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_provider_gets_403_on_customer_api(provider_client):
    response = provider_client.get("/api/customer/notifications")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_customer_pages_refuse_providers_and_send_anonymous_to_login(client, provider):
    assert client.get("/customer-portal/").status_code == 302
    assert client.get("/customer-portal/")["Location"].startswith("/accounts/login/")
    client.force_login(provider.user)
    assert client.get("/customer-portal/").status_code == 403

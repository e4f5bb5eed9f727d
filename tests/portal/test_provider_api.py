"""PATCH /api/provider/jobs/<jobId>: completion over JSON, exactly as PRODUCT.md gives it."""

import json
import uuid

import pytest
from django.test import Client

from retention.models import Job
from tests.factories import JobFactory


def patch(client, job_id, body):
    return client.patch(f"/api/provider/jobs/{job_id}", json.dumps(body), content_type="application/json")


@pytest.fixture
def job(customer, provider, lawn):
    return JobFactory(customer=customer, provider=provider, service_type=lawn)


def test_completing_answers_with_the_job_and_points(provider_client, job):
    response = patch(provider_client, job.id, {"status": "completed", "amount": "120.00"})
    assert response.status_code == 200
    body = response.json()
    job.refresh_from_db()
    assert body == {
        "job": {
            "id": str(job.id),
            "status": "completed",
            "completedAt": job.completed_at.isoformat(),
            "nextDueDate": job.next_due_date.isoformat(),
            "amount": "120.00",
        },
        "pointsAwarded": body["pointsAwarded"],
    }
    assert isinstance(body["pointsAwarded"], int)
    # Repeating it changes nothing and answers the same.
    again = patch(provider_client, job.id, {"status": "completed", "amount": "10.00"})
    assert again.status_code == 200 and again.json() == body


def test_amount_defaults_to_what_was_booked(provider_client, job):
    assert patch(provider_client, job.id, {"status": "completed"}).json()["job"]["amount"] == "65.00"


@pytest.mark.parametrize(
    "body",
    [{"status": "cancelled"}, {"status": "completed", "amount": "-1"}, {"status": "completed", "amount": "abc"},
     {"status": "completed", "amount": "1.005"}, {}],
)
def test_bad_input_is_400_and_changes_nothing(provider_client, job, body):
    response = patch(provider_client, job.id, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED


def test_unknown_and_malformed_job_ids_are_404(provider_client, db):
    assert patch(provider_client, uuid.uuid4(), {"status": "completed"}).status_code == 404
    assert patch(provider_client, "not-a-uuid", {"status": "completed"}).status_code == 404


def test_csrf_is_enforced_for_session_clients(provider, job):
    client = Client(enforce_csrf_checks=True)
    client.force_login(provider.user)
    response = patch(client, job.id, {"status": "completed"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    # With the token, as a browser would send it, it works.
    client.get("/provider-portal/")
    token = client.cookies["csrftoken"].value
    ok = client.patch(
        f"/api/provider/jobs/{job.id}", json.dumps({"status": "completed"}),
        content_type="application/json", headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 200


def test_openapi_document_lists_the_endpoints(client, db):
    doc = client.get("/api/openapi.json").json()
    assert "/api/provider/jobs" in doc["paths"]
    assert "patch" in doc["paths"]["/api/provider/jobs/{job_id}"]
    assert "/api/customer/notifications" in doc["paths"]




def test_openapi_schemas_say_what_the_server_accepts(client, db):
    from actions.jobs import AMOUNT_PATTERN

    doc = client.get("/api/openapi.json").json()
    schemas = doc["components"]["schemas"]
    complete = schemas["CompleteJobIn"]["properties"]
    assert complete["status"]["const"] == "completed"
    assert {"pattern": AMOUNT_PATTERN, "type": "string"} in complete["amount"]["anyOf"]
    assert schemas["RedeemIn"]["properties"]["rewardId"] == {"format": "uuid", "title": "Rewardid", "type": "string"}
    (status,) = doc["paths"]["/api/provider/jobs"]["get"]["parameters"]
    enum_ref = status["schema"]["anyOf"][0]["$ref"].rsplit("/", 1)[1]
    assert schemas[enum_ref]["enum"] == ["scheduled", "completed", "cancelled"]
    # Writes document 413 for a body that is too large.
    assert "413" in doc["paths"]["/api/provider/jobs/{job_id}"]["patch"]["responses"]


def test_an_unknown_status_filter_is_400(provider_client):
    response = provider_client.get("/api/provider/jobs?status=done")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"

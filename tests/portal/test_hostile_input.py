"""Issue 12: the nine requests a logged-in user could send that got a 500 or did the
wrong thing. Each test sends exactly the request from the issue and checks that the
answer is a 4xx in the error shape (or the documented success) and that nothing
changed that should not have."""

import json
import uuid

import pytest
from django.test import Client

from loyalty.models import LoyaltyAccount, PointsEntry, Redemption
from retention.models import Job, JobRun, Notification
from tests.factories import JobFactory, NotificationFactory, RewardFactory


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) >= {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body


def patch(client, job_id, body):
    return client.patch(f"/api/provider/jobs/{job_id}", json.dumps(body), content_type="application/json")


@pytest.fixture
def job(customer, provider, lawn):
    return JobFactory(customer=customer, provider=provider, service_type=lawn)


def assert_job_untouched(job):
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED and job.completed_at is None
    assert job.amount_paid == job.price
    assert not PointsEntry.objects.exists()


# 1. Amounts Decimal() accepts but cannot quantize: 500 decimal.InvalidOperation.
@pytest.mark.parametrize("amount", ["1e30", "1E+400", "9" * 28, "1" * 1000])
def test_1_amounts_beyond_any_precision_are_400(provider_client, job, amount):
    response = patch(provider_client, job.id, {"status": "completed", "amount": amount})
    assert_error(response, 400, "invalid_request")
    assert_job_untouched(job)


# 2. An amount too big for the amount column: 500 numeric overflow on save.
def test_2_an_amount_wider_than_the_column_is_400(provider_client, job):
    response = patch(provider_client, job.id, {"status": "completed", "amount": "12345678901"})
    assert_error(response, 400, "invalid_request")
    assert_job_untouched(job)


# 3. The largest accepted amount awarded 114,999,998 points a job. Now at most
# MAX_AMOUNT_FACTOR x the list price from a provider (64-bit points: tests/loyalty).
def test_3_an_amount_above_the_factor_is_400_amount_out_of_range(provider_client, job, settings):
    assert settings.MAX_AMOUNT_FACTOR == 2 and str(job.price) == "65.00"
    response = patch(provider_client, job.id, {"status": "completed", "amount": "99999999.99"})
    body = assert_error(response, 400, "amount_out_of_range")
    assert "130.00" in body["error"]["message"]
    assert_job_untouched(job)
    # Exactly twice the list price is still accepted.
    response = patch(provider_client, job.id, {"status": "completed", "amount": "130.00"})
    assert response.status_code == 200 and response.json()["pointsAwarded"] == 130


# 4. multipart/form-data with a valid session and CSRF token: 500 RawPostDataException.
@pytest.fixture
def csrf_customer_client(customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer.user)
    client.get("/customer-portal/")
    return client, client.cookies["csrftoken"].value


def test_4_multipart_redeem_is_400(csrf_customer_client, customer):
    client, token = csrf_customer_client
    reward = RewardFactory(points_cost=10)
    response = client.post(
        "/api/customer/loyalty/redeem",
        {"rewardId": str(reward.id), "csrfmiddlewaretoken": token},
        headers={"X-CSRFToken": token},
    )
    assert response.request["CONTENT_TYPE"].startswith("multipart/form-data")
    assert_error(response, 400, "invalid_request")
    assert not Redemption.objects.exists()


def test_4_multipart_mark_read_is_400(csrf_customer_client, customer):
    client, token = csrf_customer_client
    note = NotificationFactory(customer=customer)
    response = client.post(
        "/api/customer/notifications/read", {"all": "true", "csrfmiddlewaretoken": token}, headers={"X-CSRFToken": token}
    )
    assert_error(response, 400, "invalid_request")
    note.refresh_from_db()
    assert note.read_at is None


# 5. A 3 MB JSON body to an authenticated write: 500 RequestDataTooBig.
def test_5_a_3mb_body_is_413(customer_client, customer):
    RewardFactory(points_cost=10)
    body = json.dumps({"rewardId": str(uuid.uuid4()), "padding": "x" * 3_000_000})
    response = customer_client.post("/api/customer/loyalty/redeem", body, content_type="application/json")
    assert_error(response, 413, "request_too_large")
    assert not Redemption.objects.exists() and not LoyaltyAccount.objects.exists()


# 6. NUL in a query string: 500 "PostgreSQL text fields cannot contain NUL".
def test_6_nul_in_the_booking_query_is_400(customer_client, service_types):
    response = customer_client.get("/customer-portal/book/?service=%00")
    assert response.status_code == 400
    # And under /api/ in the error shape.
    provider_response = customer_client.get("/api/customer/notifications?x=%00")
    assert_error(provider_response, 400, "invalid_request")


# 7. Not the documented object: 200 and every notification marked read.
@pytest.mark.parametrize("body", ["[null,null]", '"all"', "123", "true", "{}", "null", ""])
def test_7_mark_read_needs_the_documented_object(customer_client, customer, body):
    notes = NotificationFactory.create_batch(2, customer=customer)
    response = customer_client.post("/api/customer/notifications/read", body, content_type="application/json")
    assert_error(response, 400, "invalid_request")
    assert Notification.objects.filter(pk__in=[n.pk for n in notes], read_at__isnull=True).count() == 2


# 8. /api/cron/* dropped the command's own stats (locked, delivery, ...).
def test_8_cron_answers_every_key_the_command_prints(client, db, settings, capsys):
    from django.core.management import call_command

    settings.CRON_SECRET = "s3cret-for-tests"
    settings.RESEND_API_KEY = ""
    call_command("deliver_emails")
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    extra = set(printed) - {"job", "date", "dryRun", "eligible", "sent", "skipped", "failed"}
    assert extra, "deliver_emails prints keys of its own"

    response = client.post("/api/cron/deliver-emails", headers={"Authorization": "Bearer s3cret-for-tests"})
    assert response.status_code == 200
    assert set(response.json()) == set(printed)
    assert JobRun.objects.count() == 2


def test_8_cron_answers_locked_when_another_copy_runs(client, db, settings):
    from django.db import connections

    from retention.locks import lock_key

    settings.CRON_SECRET = "s3cret-for-tests"
    other = connections.create_connection("default")  # another process's session
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key("job.deliver_emails")])
        response = client.post("/api/cron/deliver-emails", headers={"Authorization": "Bearer s3cret-for-tests"})
    finally:
        other.close()
    assert response.status_code == 200, response.content
    assert response.json()["locked"] is True


# 9. Unknown paths and wrong methods under /api/: Django's HTML 404/405 pages.
@pytest.mark.parametrize("path", ["/api/nope", "/api/customer/nope", "/api/provider/jobs/x/y", "/api/"])
def test_9_unknown_api_paths_are_json_404(customer_client, path):
    assert_error(customer_client.get(path), 404, "not_found")


def test_9_wrong_methods_are_json_405_with_allow(customer_client, provider_client):
    response = customer_client.delete("/api/customer/notifications")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"
    response = customer_client.put("/api/customer/loyalty/redeem", "{}", content_type="application/json")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"

"""POST /api/customer/notifications/read: {"ids": [...]} or {"all": true}, nothing else."""

import json
import uuid

import pytest

from retention.models import Notification
from tests.factories import NotificationFactory

URL = "/api/customer/notifications/read"


def post(client, body):
    return client.post(URL, json.dumps(body), content_type="application/json")


@pytest.fixture
def notes(customer):
    return NotificationFactory.create_batch(3, customer=customer)


def unread(customer):
    return Notification.objects.filter(customer=customer, read_at__isnull=True).count()


def test_ids_mark_those_read_in_a_fixed_number_of_queries(customer_client, customer, notes, django_assert_num_queries):
    # session + user + customer, the UPDATE, the unread count
    with django_assert_num_queries(5):
        response = post(customer_client, {"ids": [str(notes[0].id), str(notes[1].id)]})
    assert response.status_code == 200
    assert response.json() == {"success": True, "marked": 2, "unreadCount": 1}


def test_all_true_marks_every_one_read(customer_client, customer, notes):
    response = post(customer_client, {"all": True})
    assert response.json() == {"success": True, "marked": 3, "unreadCount": 0}


@pytest.mark.parametrize(
    "body",
    [{"all": False}, {"all": 1}, {"all": "true"}, {"all": None}, {"ids": None}, {"ids": "all"}, {"ids": ["nope"]},
     {"ids": [str(uuid.uuid4())] * 501}, {"ids": [], "all": True}, {"foo": 1}],
)
def test_anything_else_is_400_and_marks_nothing(customer_client, customer, notes, body):
    response = post(customer_client, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    assert unread(customer) == 3


def test_the_openapi_document_describes_the_body(client, db):
    doc = client.get("/api/openapi.json").json()
    body = doc["paths"][URL]["post"]["requestBody"]
    assert body["required"] is True
    schema = doc["components"]["schemas"]["MarkReadIn"]
    assert schema["oneOf"] == [{"required": ["ids"]}, {"required": ["all"]}]
    assert set(schema["properties"]) == {"ids", "all"}

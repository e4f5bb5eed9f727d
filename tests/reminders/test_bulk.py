"""reminders.bulk.insert_rows writes what bulk_create would, from columns of values."""

import datetime as dt
import uuid

import pytest
from django.forms.models import model_to_dict

from reminders.bulk import insert_rows
from retention.models import Notification, OutboundEmail

NOW = dt.datetime(2026, 6, 15, 15, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_rows_match_bulk_create_with_the_model_defaults(customer, other_customer):
    insert_rows(
        OutboundEmail,
        {
            "idempotency_key": ["a/1", "a/2"],
            "customer_id": [customer.pk, other_customer.pk],
            "to_email": [customer.email, other_customer.email],
            "subject": ["S1", "S2"],
            "text_body": ["T1", "T2 & <x>"],
            "html_body": ["<p>1</p>", "<p>2</p>"],
        },
        same={"template": "t", "kind": OutboundEmail.Kind.REMINDER, "headers": {}, "created_at": NOW, "next_attempt_at": NOW},
    )
    OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                idempotency_key="b/2", customer=other_customer, to_email=other_customer.email, subject="S2",
                text_body="T2 & <x>", html_body="<p>2</p>", template="t", kind=OutboundEmail.Kind.REMINDER,
                created_at=NOW, next_attempt_at=NOW,
            )
        ]
    )
    written = {e.idempotency_key: model_to_dict(e, exclude=["id", "idempotency_key"]) for e in OutboundEmail.objects.all()}
    assert written["a/2"] == written["b/2"]
    assert written["a/1"]["customer"] == customer.pk and written["a/1"]["status"] == "pending"


@pytest.mark.django_db
def test_ignore_conflicts_skips_a_key_already_there(customer):
    rows = {
        "idempotency_key": ["k/1"], "customer_id": [customer.pk], "to_email": [customer.email],
        "subject": ["first"], "text_body": [""], "html_body": [""],
    }
    same = {"template": "t", "kind": "reminder", "headers": {}, "created_at": NOW, "next_attempt_at": NOW}
    insert_rows(OutboundEmail, rows, same=same, ignore_conflicts_on="idempotency_key")
    insert_rows(OutboundEmail, {**rows, "subject": ["second"]}, same=same, ignore_conflicts_on="idempotency_key")
    assert list(OutboundEmail.objects.values_list("subject", flat=True)) == ["first"]


@pytest.mark.django_db
def test_a_per_row_default_must_be_given(customer):
    with pytest.raises(ValueError, match="Notification.id has a per-row default"):
        insert_rows(Notification, {"customer_id": [customer.pk], "title": ["t"], "message": ["m"]}, same={"kind": "job"})
    insert_rows(
        Notification,
        {"id": [uuid.uuid4()], "customer_id": [customer.pk], "title": ["t"], "message": ["m"]},
        same={"kind": "job", "created_at": NOW},
    )
    notification = Notification.objects.get()
    assert (notification.title, notification.action_url, notification.read_at) == ("t", "", None)


def test_nothing_to_write_touches_no_database():
    # No django_db mark: any query would raise.
    insert_rows(Notification, {"id": [], "customer_id": [], "title": [], "message": []})

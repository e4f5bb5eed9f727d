"""retention.bulk.insert_rows writes what bulk_create would, from rows of plain values."""

import datetime as dt
import uuid

import pytest
from django.forms.models import model_to_dict

from outbox.models import OutboundEmail
from retention.bulk import insert_rows
from retention.models import Notification

NOW = dt.datetime(2026, 6, 15, 15, tzinfo=dt.UTC)
EMAIL_FIELDS = ["idempotency_key", "customer_id", "to_email", "subject", "text_body", "html_body"]
SAME = {
    "template": "t",
    "kind": OutboundEmail.Kind.REMINDER,
    "headers": {},
    "created_at": NOW,
    "next_attempt_at": NOW,
    "as_of": NOW.date(),
}


@pytest.mark.django_db
def test_rows_match_bulk_create_with_the_model_defaults(customer, other_customer):
    insert_rows(
        OutboundEmail,
        EMAIL_FIELDS,
        [
            ("a/1", customer.pk, customer.email, "S1", "T1", "<p>1</p>"),
            (
                "a/2",
                other_customer.pk,
                other_customer.email,
                'S2 \\ "q" {x,y}',
                "T2 & <x>\n",
                "<p>2</p>",
            ),
        ],
        same=SAME,
    )
    OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                idempotency_key="b/2",
                customer=other_customer,
                to_email=other_customer.email,
                subject='S2 \\ "q" {x,y}',
                text_body="T2 & <x>\n",
                html_body="<p>2</p>",
                **SAME,
            )
        ]
    )
    written = {
        e.idempotency_key: model_to_dict(e, exclude=["id", "idempotency_key"])
        for e in OutboundEmail.objects.all()
    }
    assert written["a/2"] == written["b/2"]
    assert written["a/1"]["customer"] == customer.pk and written["a/1"]["status"] == "pending"
    assert written["a/1"]["subject"] == "S1" and written["a/1"]["html_body"] == "<p>1</p>"


@pytest.mark.django_db
def test_ignore_conflicts_skips_a_key_already_there(customer):
    row = ("k/1", customer.pk, customer.email, "first", "", "")
    insert_rows(
        OutboundEmail, EMAIL_FIELDS, [row], same=SAME, ignore_conflicts_on="idempotency_key"
    )
    again = ("k/1", customer.pk, customer.email, "second", "", "")
    insert_rows(
        OutboundEmail, EMAIL_FIELDS, [again], same=SAME, ignore_conflicts_on="idempotency_key"
    )
    assert list(OutboundEmail.objects.values_list("subject", flat=True)) == ["first"]


@pytest.mark.django_db
def test_a_per_row_default_must_be_given(customer):
    with pytest.raises(ValueError, match="Notification.id has a per-row default"):
        insert_rows(
            Notification,
            ["customer_id", "title", "message"],
            [(customer.pk, "t", "m")],
            same={"kind": "job"},
        )
    insert_rows(
        Notification,
        ["id", "customer_id", "title", "message"],
        [(uuid.uuid4(), customer.pk, "t", "m")],
        same={"kind": "job", "created_at": NOW},
    )
    notification = Notification.objects.get()
    assert (notification.title, notification.action_url, notification.read_at) == ("t", "", None)


def test_rows_must_fit_the_fields():
    with pytest.raises(ValueError):
        insert_rows(Notification, ["id", "customer_id"], [(uuid.uuid4(), 1, "extra")])
    with pytest.raises(ValueError, match="no field"):
        insert_rows(Notification, ["id", "colour"], [])


def test_nothing_to_write_touches_no_database():
    # No django_db mark: any query would raise.
    insert_rows(Notification, ["id", "customer_id", "title", "message"], [])

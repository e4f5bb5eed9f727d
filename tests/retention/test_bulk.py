"""Batch SQL (retention.bulk, outbox.batch_queue): built from the models' _meta, it
writes what bulk_create would, and a renamed table or column, or a new required
column, changes or breaks the statement here, in the tests, not in production."""

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.forms.models import model_to_dict

from campaigns.models import CampaignSend
from campaigns.seasonal import start_run
from outbox.batch_queue import batch_statement, queue_batch, queued_emails
from outbox.models import OutboundEmail
from outbox.offers import offer_steps
from reminders.service_due import reminder_steps
from retention.bulk import Same, insert_step
from retention.models import Customer, Notification, PromoCode
from tests.factories import CampaignFactory

ROOT = Path(__file__).resolve().parent.parent.parent
NOW = dt.datetime(2026, 6, 15, 15, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 6, 17)  # a run dated ahead: each email records the run's day, not today
TEXT = ("key", "email", "subject", "text_body", "html_body")


def filled_emails(rows) -> int:
    """Queues filled emails (no stencil) for rows of (customer id, *TEXT) in one batch."""
    columns = {name: [row[index] for row in rows] for index, name in enumerate(("customer_id", *TEXT))}
    (written,) = queue_batch(
        given=columns,
        types={"customer_id": "bigint", **dict.fromkeys(TEXT, "text")},
        steps=[],
        emails=queued_emails(
            source="given", row="given", key="given.key", template="t", kind=OutboundEmail.Kind.REMINDER, now=NOW,
            as_of=AS_OF,
        ),
    )
    return written


@pytest.mark.django_db
def test_rows_match_bulk_create_with_the_model_defaults(customer, other_customer):
    awkward = ('S2 \\ "q" {x,y}', "T2 & <x>\n", "<p>2</p>")
    written = filled_emails(
        [(customer.pk, "a/1", customer.email, "S1", "T1", "<p>1</p>"), (other_customer.pk, "a/2", other_customer.email, *awkward)]
    )
    OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                idempotency_key="b/2", customer=other_customer, to_email=other_customer.email,
                subject=awkward[0], text_body=awkward[1], html_body=awkward[2],
                template="t", kind=OutboundEmail.Kind.REMINDER, headers={}, created_at=NOW, next_attempt_at=NOW,
                as_of=AS_OF,
            )
        ]
    )
    rows = {e.idempotency_key: model_to_dict(e, exclude=["id", "idempotency_key"]) for e in OutboundEmail.objects.all()}
    assert written == 2
    assert rows["a/2"] == rows["b/2"]
    assert rows["a/1"]["customer"] == customer.pk and rows["a/1"]["status"] == OutboundEmail.Status.PENDING
    assert rows["a/1"]["subject"] == "S1" and rows["a/1"]["html_body"] == "<p>1</p>"
    assert rows["a/1"]["as_of"] == AS_OF


@pytest.mark.django_db
def test_a_key_already_queued_is_skipped(customer):
    assert filled_emails([(customer.pk, "k/1", customer.email, "first", "", "")]) == 1
    assert filled_emails([(customer.pk, "k/1", customer.email, "second", "", "")]) == 0
    assert list(OutboundEmail.objects.values_list("subject", flat=True)) == ["first"]


def test_a_per_row_default_must_be_given():
    with pytest.raises(ValueError, match="Notification.id has a per-row default"):
        insert_step("n", Notification, {"customer_id": "c", "kind": Same("job"), "title": "t", "message": "m"}, source="x")


def test_a_required_field_must_be_given():
    with pytest.raises(ValueError, match="Notification.title is required"):
        insert_step(
            "n", Notification, {"id": "i", "customer_id": "c", "kind": Same("job"), "message": "m", "created_at": "n"},
            source="x",
        )


def test_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="no field"):
        insert_step("n", Notification, {"colour": "'red'"}, source="x")


@pytest.mark.django_db
def test_the_batch_statements_follow_renamed_tables_and_columns(monkeypatch):
    """Rename a table and a column in the models (as a migration would): the statements
    the jobs run name the new ones and not the old, so hand-written names cannot hide."""
    CampaignFactory(start_month=12, end_month=2)
    run = start_run(as_of=dt.date(2027, 1, 4))
    renames = [
        (PromoCode._meta, "db_table", "renamed_promocode"),
        (OutboundEmail._meta.get_field("to_email"), "column", "renamed_to_email"),
        (Notification._meta.get_field("message"), "column", "renamed_message"),
        (CampaignSend._meta.get_field("customer"), "column", "renamed_customer_id"),
    ]
    for target, attribute, new in renames:
        monkeypatch.setattr(target, attribute, new)
    emails = queued_emails(
        source="b", row="b", key="k", template="t", kind="marketing", now=NOW, as_of=AS_OF, stencil=run.email
    )
    for steps in (offer_steps(run.offer), reminder_steps(now=NOW)):
        sql, _params = batch_statement(types={"customer_id": "bigint"}, steps=steps, emails=emails)
        assert '"renamed_to_email"' in sql and '"to_email"' not in sql
        assert '"renamed_message"' in sql and '"message"' not in sql
    sql, _params = batch_statement(types={}, steps=offer_steps(run.offer), emails=emails)
    # (The eligibility re-check is the ORM's SQL, compiled by Django from _meta too.)
    assert 'INSERT INTO "renamed_promocode"' in sql and 'INSERT INTO "retention_promocode"' not in sql
    assert '"renamed_customer_id"' in sql


# The modules that build batch SQL: no table name and no choice value written by hand.
BATCH_SQL_MODULES = [
    "retention/bulk.py", "outbox/batch_queue.py", "outbox/offers.py", "outbox/stencil.py",
    "campaigns/seasonal.py", "reminders/winback.py", "reminders/service_due.py", "plans/visits.py",
]


def string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


@pytest.mark.parametrize("module", BATCH_SQL_MODULES)
def test_no_table_name_or_choice_value_is_written_by_hand(module):
    tables = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    choices = {
        str(value)
        for model in (OutboundEmail, PromoCode, Customer)
        for field in model._meta.concrete_fields
        for value, _label in (field.choices or [])
    }
    for text in string_constants(ROOT / module):
        assert not [table for table in tables if table in text], f"{module} names a table: {text[:80]!r}"
        for value in choices:
            assert f"'{value}'" not in text, f"{module} writes the choice {value!r} by hand: {text[:80]!r}"


@pytest.mark.django_db
def test_insert_rows_writes_rows_made_in_python(customer):
    import uuid

    from retention.bulk import insert_rows

    ids = [uuid.uuid4(), uuid.uuid4()]
    insert_rows(
        Notification, ["id", "customer_id", "title", "message"], [(i, customer.pk, f"t{n}", "m") for n, i in enumerate(ids)],
        same={"kind": "job", "created_at": NOW},
    )
    rows = Notification.objects.order_by("title").values_list("id", "title", "action_url", "read_at", "created_at")
    assert list(rows) == [(ids[0], "t0", "", None, NOW), (ids[1], "t1", "", None, NOW)]

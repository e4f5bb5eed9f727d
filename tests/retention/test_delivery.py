"""Delivery through the real resend SDK to the fake Resend server: batching, the rate
limit, retries, permanent failures, and the Django backend without a key."""

from pathlib import Path

import pytest
from django.core import mail

from outbox.delivery import deliver_pending
from outbox.models import OutboundEmail
from tests.factories import CustomerFactory, OutboundEmailFactory

Status = OutboundEmail.Status
pytestmark = pytest.mark.django_db
TEST_TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 0.2
    settings.EMAIL_RETRY_MAX_SECONDS = 1
    settings.RESEND_REQUESTS_PER_SECOND = 100


def test_250_emails_go_out_in_3_batch_calls(fake_resend):
    OutboundEmailFactory.create_batch(250)

    stats = deliver_pending()

    assert stats["sent"] == 250 and stats["failed"] == 0
    assert [r.path for r in fake_resend.requests] == ["/emails/batch"] * 3
    assert sorted(r.emails for r in fake_resend.requests) == [
        50,
        100,
        100,
    ]  # several in flight: any order
    assert len({r.idempotency_key for r in fake_resend.requests}) == 3
    assert sorted(fake_resend.accepted_recipients()) == sorted(
        OutboundEmail.objects.values_list("to_email", flat=True)
    )
    assert not OutboundEmail.objects.exclude(status=Status.SENT).exists()
    ids = {e["id"] for e in fake_resend.emails}
    assert set(OutboundEmail.objects.values_list("provider_message_id", flat=True)) == ids


def test_the_rendered_email_reaches_resend_whole(fake_resend):
    email = OutboundEmailFactory(headers={"List-Unsubscribe": "<https://x.example/u/1>"})
    deliver_pending()
    [sent] = fake_resend.emails
    assert sent["to"] == [email.to_email]
    assert sent["subject"] == email.subject
    assert sent["html"] == email.html_body and sent["text"] == email.text_body
    assert sent["headers"] == {"List-Unsubscribe": "<https://x.example/u/1>"}
    assert fake_resend.requests[0].idempotency_key.startswith("batch/")


def test_rate_limit_is_never_exceeded(fake_resend, settings):
    fake_resend.rate_limit = 3
    settings.RESEND_REQUESTS_PER_SECOND = 3
    settings.EMAIL_BATCH_SIZE = 10
    OutboundEmailFactory.create_batch(100)  # 10 requests at 3/s: about 3 seconds

    stats = deliver_pending()

    assert stats["sent"] == 100
    assert fake_resend.violations == 0
    assert fake_resend.max_requests_in_any_second() <= 3
    assert len(fake_resend.requests) == 10


def test_lower_server_limit_from_headers_is_honoured(fake_resend, settings):
    fake_resend.rate_limit = 2
    settings.RESEND_REQUESTS_PER_SECOND = 50  # configured too high: ratelimit-limit says 2
    settings.RESEND_MAX_IN_FLIGHT = 1
    settings.EMAIL_BATCH_SIZE = 5
    OutboundEmailFactory.create_batch(30)

    stats = deliver_pending()

    assert stats["sent"] == 30
    # At most the first requests, sent before any answer said "2", can be refused.
    assert fake_resend.violations <= 1
    assert len(fake_resend.emails) == 30


def test_429_retry_after_is_honoured(fake_resend):
    fake_resend.rate_limit_next(1, retry_after=2)
    OutboundEmailFactory.create_batch(3)

    stats = deliver_pending()

    assert stats["sent"] == 3
    first, second = fake_resend.requests
    assert first.status == 429 and second.status == 200
    assert second.time - first.time >= 2.0
    assert first.idempotency_key == second.idempotency_key
    assert len(fake_resend.emails) == 3


def test_5xx_is_retried_with_the_same_key(fake_resend):
    fake_resend.fail_next(2, status=503)
    OutboundEmailFactory.create_batch(5)

    stats = deliver_pending()

    assert stats["sent"] == 5 and stats["retried"] == 10
    assert [r.status for r in fake_resend.requests] == [503, 503, 200]
    assert len({r.idempotency_key for r in fake_resend.requests}) == 1
    assert OutboundEmail.objects.filter(status=Status.SENT, attempts=3).count() == 5


def test_timeout_is_retried_and_sent_once(fake_resend, settings):
    settings.RESEND_TIMEOUT_SECONDS = 0.3
    fake_resend.slow_next(1, seconds=1.0)  # accepted, but the answer comes too late
    OutboundEmailFactory.create_batch(4)

    stats = deliver_pending()

    assert stats["sent"] == 4
    assert len(fake_resend.emails) == 4  # the retry was answered from the idempotency key
    assert fake_resend.requests[-1].replayed


def test_permanent_422_fails_only_the_bad_email_and_is_reported(fake_resend):
    good = OutboundEmailFactory.create_batch(3)
    bad = OutboundEmailFactory(to_email="not-an-address")

    stats = deliver_pending()

    bad.refresh_from_db()
    assert bad.status == Status.FAILED
    assert "422" in bad.last_error and "not-an-address" in bad.last_error
    assert stats["failed"] == 1 and stats["sent"] == 3
    assert any("422" in e for e in stats["errors"])
    assert sorted(fake_resend.accepted_recipients()) == sorted(e.to_email for e in good)


def test_injected_422_for_a_single_email_marks_it_failed(fake_resend):
    email = OutboundEmailFactory()
    fake_resend.reject_next(1)

    stats = deliver_pending()

    email.refresh_from_db()
    assert email.status == Status.FAILED and stats["failed"] == 1
    assert fake_resend.emails == []


def test_gives_up_after_max_attempts(fake_resend, settings):
    settings.EMAIL_MAX_ATTEMPTS = 2
    fake_resend.fail_next(5, status=500)
    email = OutboundEmailFactory()

    stats = deliver_pending()

    email.refresh_from_db()
    assert email.status == Status.FAILED and "Gave up after 2 attempts" in email.last_error
    assert stats["failed"] == 1


def test_retry_that_is_not_due_waits_for_the_next_run(fake_resend, settings):
    settings.EMAIL_RETRY_BASE_SECONDS = 60
    settings.EMAIL_RETRY_MAX_SECONDS = 60
    fake_resend.fail_next(1)
    email = OutboundEmailFactory()

    stats = deliver_pending(retry_wait_seconds=0)

    email.refresh_from_db()
    assert stats["sent"] == 0 and stats["deferred"] == 1
    assert email.status == Status.SENDING and email.attempts == 1 and "503" in email.last_error


def test_consent_is_checked_again_at_delivery(fake_resend):
    customer = CustomerFactory(marketing_opt_in=False)
    marketing = OutboundEmailFactory(customer=customer, kind="marketing", to_email=customer.email)
    receipt = OutboundEmailFactory(customer=customer, kind="transactional", to_email=customer.email)

    stats = deliver_pending()

    marketing.refresh_from_db()
    receipt.refresh_from_db()
    assert marketing.status == Status.SUPPRESSED and receipt.status == Status.SENT
    assert stats["suppressed"] == 1
    assert len(fake_resend.emails) == 1


def test_without_a_key_the_django_backend_delivers(settings):
    settings.RESEND_API_KEY = ""
    emails = OutboundEmailFactory.create_batch(
        3, headers={"List-Unsubscribe": "<https://x.example/u>"}
    )

    stats = deliver_pending()

    assert stats["sent"] == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(e.to_email for e in emails)
    message = mail.outbox[0]
    assert message.alternatives[0].mimetype == "text/html"
    assert message.extra_headers["List-Unsubscribe"] == "<https://x.example/u>"


@pytest.mark.django_db(transaction=True)
def test_email_queued_in_a_transaction_goes_out_right_after_commit(fake_resend, settings):
    from django.db import transaction

    from outbox.compose import queue_email

    settings.TEMPLATES = [
        {**engine, "DIRS": [*engine["DIRS"], TEST_TEMPLATES]} for engine in settings.TEMPLATES
    ]
    customer = CustomerFactory()
    with transaction.atomic():
        queue_email(
            template="test_offer",
            customer=customer,
            kind="transactional",
            idempotency_key="transactional/commit-1",
            context={"discount": 5},
        )
        assert fake_resend.emails == []  # nothing is sent inside the transaction

    assert [e["to"] for e in fake_resend.emails] == [[customer.email]]
    assert OutboundEmail.objects.get().status == Status.SENT


@pytest.mark.django_db(transaction=True)
def test_failed_delivery_after_commit_stays_for_deliver_emails(fake_resend, settings):
    from django.db import transaction

    from outbox.compose import queue_email

    settings.TEMPLATES = [
        {**engine, "DIRS": [*engine["DIRS"], TEST_TEMPLATES]} for engine in settings.TEMPLATES
    ]
    fake_resend.fail_next(1, status=500)
    with transaction.atomic():
        queue_email(
            template="test_offer",
            customer=CustomerFactory(),
            kind="transactional",
            idempotency_key="transactional/commit-2",
            context={"discount": 5},
        )

    email = OutboundEmail.objects.get()
    assert email.status == Status.SENDING and email.attempts == 1  # waiting for its retry
    assert fake_resend.emails == []


@pytest.mark.django_db(transaction=True)
def test_a_request_sends_only_the_email_it_queued_not_the_backlog(fake_resend, settings):
    from django.db import transaction

    from outbox.compose import queue_email

    settings.TEMPLATES = [
        {**engine, "DIRS": [*engine["DIRS"], TEST_TEMPLATES]} for engine in settings.TEMPLATES
    ]
    OutboundEmailFactory.create_batch(150)  # a seasonal run's backlog, waiting for delivery
    customer = CustomerFactory()
    with transaction.atomic():  # a web request: a redemption queues its confirmation
        queue_email(
            template="test_offer",
            customer=customer,
            kind="transactional",
            idempotency_key="transactional/request-1",
            context={"discount": 5},
        )

    assert [e["to"] for e in fake_resend.emails] == [[customer.email]]
    assert len(fake_resend.requests) == 1
    assert OutboundEmail.objects.get(idempotency_key="transactional/request-1").status == Status.SENT
    assert OutboundEmail.objects.filter(status=Status.PENDING).count() == 150  # for deliver_emails


def test_deliver_soon_sends_at_most_one_batch(fake_resend):
    from outbox.after_response import deliver_soon
    from outbox.batches import BATCH_LIMIT

    emails = OutboundEmailFactory.create_batch(BATCH_LIMIT + 20)

    deliver_soon([e.idempotency_key for e in emails])

    assert len(fake_resend.emails) == BATCH_LIMIT
    assert OutboundEmail.objects.filter(status=Status.PENDING).count() == 20

"""Staff: the outbox in admin (filters, search, retry, the rendered email), job runs,
and the preview of every email template."""

from pathlib import Path

import pytest
from django.urls import reverse

from outbox.models import OutboundEmail
from outbox.preview import SAMPLES, EmailSample, Sample, email_template_dirs
from retention.models import JobRun
from tests.factories import OutboundEmailFactory, UserFactory

pytestmark = pytest.mark.django_db
TEST_TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))
    return client


def test_outbox_list_filters_and_searches_by_recipient(staff_client):
    OutboundEmailFactory(
        to_email="findme@example.com", status="failed", last_error="422 validation_error"
    )
    OutboundEmailFactory(to_email="other@example.com")
    url = reverse("admin:outbox_outboundemail_changelist")

    found = staff_client.get(url, {"q": "findme"})
    assert b"findme@example.com" in found.content and b"other@example.com" not in found.content
    failed = staff_client.get(url, {"status__exact": "failed", "kind__exact": "transactional"})
    assert b"findme@example.com" in failed.content and b"other@example.com" not in failed.content
    assert b"Preview email templates" in failed.content


def test_retry_action_requeues_failed_emails(staff_client, settings):
    settings.RESEND_API_KEY = ""
    failed = OutboundEmailFactory(
        status="failed", attempts=3, batch_key="batch/old", last_error="boom"
    )
    sent = OutboundEmailFactory(status="sent")

    response = staff_client.post(
        reverse("admin:outbox_outboundemail_changelist"),
        {"action": "retry", "_selected_action": [failed.pk, sent.pk]},
    )

    assert response.status_code == 302
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == "pending" and failed.batch_key == "" and failed.attempts == 0
    assert sent.status == "sent"


def test_rendered_email_is_viewable(staff_client):
    email = OutboundEmailFactory(
        subject="Your spring offer",
        html_body="<p>Hi <b>there</b></p>",
        headers={"List-Unsubscribe": "<https://x.example/u>"},
    )

    detail = staff_client.get(reverse("admin:outbox_outboundemail_change", args=[email.pk]))
    assert b"View the email as sent" in detail.content
    page = staff_client.get(reverse("admin:outbox_outboundemail_rendered", args=[email.pk]))

    assert page.status_code == 200
    assert b"Your spring offer" in page.content
    assert (
        b'srcdoc="&lt;p&gt;Hi &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;"' in page.content
    )  # escaped, sandboxed
    assert b"List-Unsubscribe" in page.content


def test_preview_renders_every_email_template_with_sample_data(staff_client, settings, monkeypatch):
    settings.TEMPLATES = [  # both engines: HTML, and plain text for subjects and text parts
        {**engine, "DIRS": [*engine["DIRS"], TEST_TEMPLATES]} for engine in settings.TEMPLATES
    ]
    names = list(email_template_dirs())
    assert "test_offer" in names and "_layout" not in names
    monkeypatch.setitem(
        SAMPLES, "test_offer",
        EmailSample("test_offer", OutboundEmail.Kind.MARKETING, lambda: Sample({"discount": 15}, ("15% off",))),
    )

    page = staff_client.get(reverse("admin:outbox_email_preview"))

    assert page.status_code == 200
    content = page.content.decode()
    for name in names:
        assert f'id="email-{name}"' in content
    assert "Sam Sample, an offer for you" in content  # sample customer
    assert "15% off" in content  # the registered sample
    assert "broken" not in content


def test_preview_and_rendered_view_are_staff_only(client, customer):
    client.force_login(customer.user)
    email = OutboundEmailFactory()
    for url in (
        reverse("admin:outbox_email_preview"),
        reverse("admin:outbox_outboundemail_rendered", args=[email.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_job_runs_in_admin(staff_client):
    JobRun.objects.create(
        name="deliver_emails",
        as_of="2026-03-02",
        status="failed",
        stats={"job": "deliver_emails", "sent": 3, "failed": 1},
        error="1 failed",
    )
    page = staff_client.get(
        reverse("admin:retention_jobrun_changelist"), {"status__exact": "failed"}
    )
    assert page.status_code == 200 and b"sent 3, failed 1" in page.content
    run = JobRun.objects.get()
    detail = staff_client.get(reverse("admin:retention_jobrun_change", args=[run.pk]))
    assert detail.status_code == 200 and b"&quot;failed&quot;: 1" in detail.content


def test_outbox_rows_cannot_be_added_by_hand(staff_client):
    assert staff_client.get(reverse("admin:outbox_outboundemail_add")).status_code == 403
    assert OutboundEmail.objects.count() == 0

"""The staff email preview: every email has a sample built by the context function the
real send uses, every preview shows its email's key values, says the right kind, and
its HTML frame holds the email (the srcdoc escaped, so the frame is not blank)."""

import html
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from outbox.models import OutboundEmail
from outbox.preview import SAMPLES, email_template_dirs, render_all_previews, render_preview
from tests.factories import UserFactory

KINDS = {
    "password_reset": OutboundEmail.Kind.TRANSACTIONAL,
    "loyalty_redemption": OutboundEmail.Kind.TRANSACTIONAL,
    "loyalty_tier_upgrade": OutboundEmail.Kind.TRANSACTIONAL,
    "service_due": OutboundEmail.Kind.REMINDER,
    "seasonal_offer": OutboundEmail.Kind.MARKETING,
    "winback": OutboundEmail.Kind.MARKETING,
}


def test_every_email_has_a_sample_and_the_right_kind():
    assert set(email_template_dirs()) <= set(SAMPLES)
    assert {name: SAMPLES[name].kind for name in KINDS} == KINDS


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_preview_shows_its_emails_key_values(name):
    preview = render_preview(name)
    assert not preview.error and preview.key_values
    email = preview.email
    text, page = email.subject + email.text_body, html.unescape(email.html_body)
    for value in preview.key_values:
        assert value in email.text_body + email.subject, f"{name}: {value!r} missing from the text"
        assert value in page, f"{name}: {value!r} missing from the HTML"
    assert "Sam" in text and "Sam" in page  # the sample customer's greeting
    assert "8000http" not in text + page  # no site URL doubled in front of another
    assert email.kind == KINDS[name]
    assert ("List-Unsubscribe" in email.headers) is (email.kind == OutboundEmail.Kind.MARKETING)


class Frames(HTMLParser):
    """The srcdoc of every iframe, as a browser reads the attribute."""

    def __init__(self):
        super().__init__()
        self.srcdocs = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.srcdocs.append(dict(attrs)["srcdoc"])


@pytest.mark.django_db
def test_the_preview_page_frames_hold_the_emails(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with time_machine.travel("2026-04-06 10:00Z", tick=False):  # unsubscribe links are timestamped
        page = client.get(reverse("admin:outbox_email_preview")).content.decode()
        previews = render_all_previews()
    frames = Frames()
    frames.feed(page)
    assert [frame[:15] for frame in frames.srcdocs] == ["<!DOCTYPE html>"] * len(previews)
    for preview, srcdoc in zip(previews, frames.srcdocs, strict=True):
        assert srcdoc == preview.email.html_body
        assert f"{preview.email.get_kind_display()} ({preview.name})" in page

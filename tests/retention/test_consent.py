"""Consent: unsubscribe (logged out, tamper-proof, marketing only), RFC 8058 headers,
the preferences page, and the marketing frequency cap."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from outbox.compose import queue_email
from outbox.consent import (
    customer_for_unsubscribe_token,
    marketable_customers,
    unsubscribe_from_marketing,
    unsubscribe_token,
)
from outbox.delivery import deliver_pending
from outbox.models import OutboundEmail
from retention.clock import business_today
from retention.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
TEST_TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture(autouse=True)
def email_templates(settings):
    settings.TEMPLATES = [  # both engines: HTML, and plain text for subjects and text parts
        {**engine, "DIRS": [*engine["DIRS"], TEST_TEMPLATES]} for engine in settings.TEMPLATES
    ]


def queue(customer, kind, key):
    return queue_email(
        template="test_offer",
        customer=customer,
        kind=kind,
        idempotency_key=key,
        context={"discount": 10},
        deliver_after_commit=False,
    )


def test_marketing_email_carries_the_one_click_unsubscribe_headers(customer):
    email = queue(customer, "marketing", "marketing/1")

    link = email.headers["List-Unsubscribe"].strip("<>")
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.startswith("http") and "/email/unsubscribe/" in link
    assert link in email.text_body and link in email.html_body
    assert "Casey Customer" in email.subject and "10% off" in email.text_body


def test_transactional_email_has_no_unsubscribe_header(customer):
    email = queue(customer, "transactional", "transactional/1")
    assert "List-Unsubscribe" not in email.headers
    assert "/email/unsubscribe/" not in email.html_body


def test_unsubscribe_link_works_logged_out_and_stops_marketing_only(client, customer, fake_resend):
    email = queue(customer, "marketing", "marketing/1")
    path = email.headers["List-Unsubscribe"].strip("<>").split("://", 1)[1].split("/", 1)[1]

    page = client.get(f"/{path}")
    assert page.status_code == 200 and b"unsubscribe-form" in page.content
    # The mail client's RFC 8058 one-click POST, with no session and no CSRF token.
    response = client.post(
        f"/{path}",
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200 and b"unsubscribed" in response.content
    customer.refresh_from_db()
    assert customer.marketing_opt_in is False and customer.service_reminders_opt_in is True
    # Marketing already queued is suppressed at delivery; new marketing is not queued;
    # transactional and reminder email still go.
    assert queue(customer, "marketing", "marketing/2") is None
    queue(customer, "transactional", "transactional/1")
    queue(customer, "reminder", "reminder/1")
    stats = deliver_pending()
    assert stats["suppressed"] == 1 and stats["sent"] == 2
    assert sorted(e["tags"][1]["value"] for e in fake_resend.emails) == ["test_offer", "test_offer"]
    assert OutboundEmail.objects.get(idempotency_key="marketing/1").status == "suppressed"


@pytest.mark.parametrize(
    "tamper",
    [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t, lambda t: "garbage"],
)
def test_tampered_link_is_refused(client, customer, tamper):
    token = tamper(unsubscribe_token(customer))
    response = client.post(reverse("portal:unsubscribe", args=[token]))
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.marketing_opt_in is True


def test_another_customers_payload_with_a_junk_signature_is_refused(client, customer, other_customer):
    """A well-formed token whose payload names someone else reaches the signature check
    (the junk-string cases above fail earlier, at decoding) and is refused there."""
    payload = unsubscribe_token(other_customer).split(":")[0]
    mine = unsubscribe_token(customer)
    forged = ":".join([payload, *mine.split(":")[1:]])
    assert forged != unsubscribe_token(other_customer)
    response = client.post(reverse("portal:unsubscribe", args=[forged]))
    assert response.status_code == 400
    other_customer.refresh_from_db()
    customer.refresh_from_db()
    assert other_customer.marketing_opt_in is True and customer.marketing_opt_in is True


def test_a_queued_reminder_is_not_delivered_after_reminders_are_turned_off(customer, fake_resend):
    """Consent is checked again at delivery for service reminders too, not only marketing."""
    queue(customer, "reminder", "reminder/queued-before-opt-out")
    queue(customer, "transactional", "transactional/still-goes")
    Customer.objects.filter(pk=customer.pk).update(service_reminders_opt_in=False)

    stats = deliver_pending()

    assert stats["suppressed"] == 1 and stats["sent"] == 1
    assert OutboundEmail.objects.get(idempotency_key="reminder/queued-before-opt-out").status == "suppressed"
    assert len(fake_resend.emails) == 1


def test_a_token_for_one_customer_cannot_be_turned_into_another(client, customer, other_customer):
    token = unsubscribe_token(customer)
    client.post(reverse("portal:unsubscribe", args=[token]))
    other_customer.refresh_from_db()
    assert other_customer.marketing_opt_in is True


def test_preferences_page_saves_both_choices(customer_client, customer):
    page = customer_client.get(reverse("portal:email_preferences"))
    assert page.status_code == 200 and b"Service reminders" in page.content

    response = customer_client.post(
        reverse("portal:email_preferences"), {"service_reminders": "on"}
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.marketing_opt_in is False and customer.service_reminders_opt_in is True
    customer_client.post(reverse("portal:email_preferences"), {"marketing": "on"})
    customer.refresh_from_db()
    assert customer.marketing_opt_in is True and customer.service_reminders_opt_in is False
    assert queue(customer, "reminder", "reminder/9") is None


def test_preferences_page_needs_a_logged_in_customer(client):
    response = client.get(reverse("portal:email_preferences"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_one_marketing_email_per_seven_days_transactional_never_capped(customer):
    """Counted in business days (the as-of day on each email), not hours: a DST change
    falls within the week and changes nothing."""
    start = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)  # Monday March 2, 09:00 in New York
    with time_machine.travel(start, tick=False):
        assert queue(customer, "marketing", "marketing/a") is not None
        assert queue(customer, "marketing", "marketing/b") is None
        assert queue(customer, "transactional", "transactional/a") is not None
        assert queue(customer, "transactional", "transactional/b") is not None
        assert list(marketable_customers(Customer.objects.all())) == []
    with time_machine.travel(start + dt.timedelta(days=6, hours=9), tick=False):  # Sunday 19:00
        assert queue(customer, "marketing", "marketing/c") is None
    with time_machine.travel(start + dt.timedelta(days=7, minutes=1), tick=False):
        assert list(marketable_customers(Customer.objects.all())) == [customer]
        assert queue(customer, "marketing", "marketing/d") is not None


def test_the_cap_counts_marketing_email_only_as_of_the_day_asked(customer):
    """Reminders and receipts never count against the marketing cap; a run dated a month
    back (a catch-up) is not capped by today's marketing email."""
    queue(customer, "transactional", "transactional/today")
    queue(customer, "reminder", "reminder/today")
    assert list(marketable_customers(Customer.objects.all())) == [customer]

    queue(customer, "marketing", "marketing/today")
    month_ago = business_today() - dt.timedelta(days=30)
    assert list(marketable_customers(Customer.objects.all())) == []
    assert list(marketable_customers(Customer.objects.all(), as_of=month_ago)) == [customer]


def test_the_customer_a_token_names_comes_with_their_user_in_one_query(customer, django_assert_num_queries):
    token = unsubscribe_token(customer)
    with django_assert_num_queries(1):
        assert customer_for_unsubscribe_token(token).user.email == customer.email


def test_unsubscribing_updates_the_customer_in_hand(customer):
    unsubscribe_from_marketing(customer=customer)
    assert customer.marketing_opt_in is False
    customer.refresh_from_db()
    assert customer.marketing_opt_in is False and customer.service_reminders_opt_in is True


def test_marketable_customers_is_one_query(django_assert_num_queries):
    CustomerFactory.create_batch(3)
    CustomerFactory(marketing_opt_in=False)
    with django_assert_num_queries(1):
        assert len(list(marketable_customers(Customer.objects.all()))) == 3


def test_same_idempotency_key_is_queued_once(customer):
    queue(customer, "transactional", "transactional/same")
    queue(customer, "transactional", "transactional/same")
    assert OutboundEmail.objects.filter(idempotency_key="transactional/same").count() == 1

"""Password reset: Django's own views, the email through the outbox as a transactional
template, the same answer for an email without an account, a daily limit per account."""

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client

from accounts.forms import queue_password_reset_email
from outbox.models import OutboundEmail
from tests.factories import CustomerFactory

CSRF = re.compile(rb'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')

RESET = "/accounts/password-reset/"


def ask(client, email):
    return client.post(RESET, {"email": email}, follow=True)


def test_the_login_page_links_to_password_reset(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert f'href="{RESET}"' in page and "Forgot password?" in page


def test_a_reset_email_goes_through_the_outbox_and_the_link_sets_a_new_password(
    client, customer, settings, fake_resend, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://testserver"
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, customer.email.upper())
    assert response.redirect_chain[-1][0] == "/accounts/password-reset/sent/"

    email = OutboundEmail.objects.get()
    assert (email.template, email.kind, email.to_email) == ("password_reset", "transactional", customer.email)
    assert email.status == OutboundEmail.Status.SENT  # delivered after commit, through Resend
    assert [sent["to"] for sent in fake_resend.emails] == [[customer.email]]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", email.text_body).group(1)
    assert link in email.html_body and "Casey" in email.text_body

    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-brand-new-pass", "new_password2": "a-brand-new-pass"}, follow=True
    )
    assert "Password saved" in done.content.decode()
    customer.user.refresh_from_db()
    assert customer.user.check_password("a-brand-new-pass")
    # The link works once.
    assert "doesn't work any more" in Client().get(link, follow=True).content.decode()


def test_an_unknown_email_gets_the_same_answer_and_no_email(client, customer):
    known = ask(client, customer.email)
    unknown = ask(Client(), "nobody@example.com")
    assert unknown.redirect_chain == known.redirect_chain
    assert CSRF.sub(b"", unknown.content) == CSRF.sub(b"", known.content)
    assert OutboundEmail.objects.filter(to_email="nobody@example.com").count() == 0
    assert OutboundEmail.objects.count() == 1


@pytest.mark.parametrize("email", ["not-an-email", "a\x00b@example.com", ""])
def test_a_bad_email_is_the_form_again(client, db, email):
    response = client.post(RESET, {"email": email})
    assert response.status_code == 200
    assert not OutboundEmail.objects.exists()


def _at(hours):
    return time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC) + dt.timedelta(hours=hours), tick=False)


def test_at_most_the_days_limit_of_reset_emails_go_to_one_account(client, customer, settings):
    settings.PASSWORD_RESET_EMAILS_PER_DAY = 3
    answers = []
    for hours in (0, 2, 4, 6, 23.9):
        with _at(hours):
            answers.append(ask(client, customer.email))
    sent = OutboundEmail.objects.filter(to_email=customer.email, template="password_reset")
    assert sent.count() == 3
    # Past the limit the page answers exactly as before: nothing says an email was held back.
    assert {tuple(a.redirect_chain) for a in answers} == {(("/accounts/password-reset/sent/", 302),)}
    assert CSRF.sub(b"", answers[-1].content) == CSRF.sub(b"", answers[0].content)

    # 24 hours after the first, one more may go; another address is not limited by this one.
    with _at(24.01):
        ask(client, customer.email)
        other = CustomerFactory()
        ask(client, other.email)
    assert sent.count() == 4
    assert OutboundEmail.objects.filter(to_email=other.email).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_count_each_other(settings, fake_resend):
    """The second request waits for the first's transaction and counts its email: with a
    limit of one, two requests at once still send one."""
    settings.PASSWORD_RESET_EMAILS_PER_DAY = 1
    user = CustomerFactory().user
    outcome = []

    def second_request():
        try:
            outcome.append(queue_password_reset_email(user=user))
        finally:
            connection.close()

    with _at(0) as traveller:
        with transaction.atomic():
            assert queue_password_reset_email(user=user) is not None
            traveller.shift(5)  # another second: another token, another idempotency key
            waiting = threading.Thread(target=second_request)
            waiting.start()
            waiting.join(0.5)
            assert waiting.is_alive(), "the second request should wait for the first's lock"
        waiting.join(10)
    assert outcome == [None]
    assert OutboundEmail.objects.filter(template="password_reset").count() == 1


def test_the_limit_counts_the_address_in_any_case(client, customer, settings):
    """Reset emails already sent to this inbox under another spelling of the address count."""
    settings.PASSWORD_RESET_EMAILS_PER_DAY = 1
    with _at(0):
        ask(client, customer.email)
    OutboundEmail.objects.update(to_email=customer.email.upper())
    with _at(1):
        ask(client, customer.email)
    assert OutboundEmail.objects.filter(template="password_reset").count() == 1

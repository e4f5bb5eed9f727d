"""Password reset: Django's own views, the email through the outbox as a transactional
template, the same answer for an email without an account."""

import re

CSRF = re.compile(rb'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')

import pytest
from django.test import Client

from outbox.models import OutboundEmail

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

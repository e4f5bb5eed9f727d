"""The invited friend's page: /r/<code> signs them up, signs them in, records the
referral and gives them a welcome code with an email; existing emails and unknown
codes get the answers PRODUCT.md asks for."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from outbox.models import OutboundEmail
from referrals.models import WELCOME_SOURCE, Referral, ReferralCode
from retention.models import Customer, PromoCode, User

from .conftest import PASSWORD, post_sign_up

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_advocates_first_name_the_offer_and_the_form(client, code):
    response = client.get(f"/r/{code}")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="advocate-name">Ada<' in page
    assert "Advocate" not in page and "ada.advocate@example.com" not in page  # first name only
    assert "$20 off your first service" in page
    for field in ('name="name"', 'name="email"', 'name="password"', "csrfmiddlewaretoken"):
        assert field in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_a_code_is_found_whatever_its_case(client, code):
    assert client.get(f"/r/{code.lower()}").status_code == 200


def test_signing_up_creates_the_customer_signs_in_and_gives_a_welcome_code(client, advocate, code):
    before = timezone.now()
    response = post_sign_up(client, code, ip="198.51.100.23")

    assert response.status_code == 302 and response["Location"] == "/customer-portal/"
    user = User.objects.get(email="fred@example.org")
    assert user.name == "Fred Friend" and user.check_password(PASSWORD)
    friend = Customer.objects.get(user=user)
    referral = Referral.objects.get(friend=friend)
    assert referral.advocate == advocate and referral.status == Referral.Status.JOINED
    assert referral.signup_ip == "198.51.100.23"
    assert before <= referral.joined_at <= timezone.now()
    promo = referral.welcome_code
    assert promo.customer == friend and promo.source == WELCOME_SOURCE
    assert promo.discount_type == PromoCode.DiscountType.AMOUNT and promo.discount_value == 20
    assert promo.used_at is None
    assert timezone.localdate(promo.expires_at) == timezone.localdate() + dt.timedelta(days=60)
    email = OutboundEmail.objects.get(template="referral_welcome")
    assert email.to_email == "fred@example.org" and email.kind == "transactional"
    assert promo.code in email.text_body and promo.code in email.html_body and "Ada invited you" in email.text_body
    # Signed in: the dashboard shows the welcome code.
    dashboard = client.get("/customer-portal/")
    assert dashboard.status_code == 200 and promo.code in dashboard.content.decode()


def test_the_welcome_code_takes_20_dollars_off_a_booking_once(client, code, lawn, provider):
    from actions.jobs import book_job
    from retention.promo import PromoCodeError

    post_sign_up(client, code)
    friend = Customer.objects.get(user__email="fred@example.org")
    promo = friend.referred_by.welcome_code
    job = book_job(customer=friend, service_type=lawn, scheduled_for=timezone.localdate(), promo_code_text=promo.code)
    assert job.amount_paid == lawn.base_price - 20
    with pytest.raises(PromoCodeError):
        book_job(customer=friend, service_type=lawn, scheduled_for=timezone.localdate(), promo_code_text=promo.code)


def test_an_existing_email_gets_the_same_answer_no_second_account_and_an_email(code, customer):
    new = post_sign_up(Client(), code, email="someone.new@example.org")
    existing = post_sign_up(Client(), code, email="CASEY@example.com")  # customer's email, other case

    assert (existing.status_code, existing["Location"]) == (new.status_code, new["Location"])
    assert User.objects.filter(email__iexact="casey@example.com").count() == 1
    assert not Referral.objects.filter(friend=customer).exists()
    told = OutboundEmail.objects.get(template="referral_account_exists")
    assert told.to_email == "casey@example.com" and "already have an account" in told.text_body
    assert not OutboundEmail.objects.filter(template="referral_welcome", to_email="casey@example.com").exists()
    # A second try the same day does not email them again.
    post_sign_up(Client(), code, email="casey@example.com")
    assert OutboundEmail.objects.filter(template="referral_account_exists").count() == 1


def test_the_existing_account_is_not_signed_in(code, customer):
    client = Client()
    post_sign_up(client, code, email="casey@example.com")
    assert client.get("/customer-portal/").status_code == 302  # to the login page


def test_an_unknown_code_answers_404_with_a_form_that_still_signs_up(client):
    response = client.get("/r/NOSUCHCODE")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="unknown-code"' in page and 'name="email"' in page

    signed_up = post_sign_up(client, "NOSUCHCODE", email="walk.in@example.org")
    assert signed_up.status_code == 302
    user = User.objects.get(email="walk.in@example.org")
    assert Customer.objects.filter(user=user).exists()
    assert not Referral.objects.exists()
    assert not PromoCode.objects.filter(customer__user=user).exists()
    assert OutboundEmail.objects.filter(template="referral_welcome", to_email="walk.in@example.org").exists()


@pytest.mark.parametrize(
    "password, message",
    [("short", "too short"), ("password123", "too common"), ("12345678901", "entirely numeric"), ("fredfriend1", "too similar")],
)
def test_djangos_password_validators_refuse_weak_passwords_and_nothing_is_created(client, code, password, message):
    response = post_sign_up(client, code, name="Fred Friend", email="fredfriend@example.org", password=password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(email="fredfriend@example.org").exists()
    assert not Referral.objects.exists() and not OutboundEmail.objects.exists()


def test_bad_input_is_refused_with_clear_errors(client, code):
    response = client.post(f"/r/{code}", {"name": "", "email": "not-an-email", "password": PASSWORD})
    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page and "Enter a valid email address." in page
    assert User.objects.count() == 1  # the advocate


def test_link_opens_are_counted_once_per_visitor_and_never_for_the_advocate(code, advocate):
    visitor = Client()
    visitor.get(f"/r/{code}")
    visitor.get(f"/r/{code}")
    Client().get(f"/r/{code}")
    own = Client()
    own.force_login(advocate.user)
    page = own.get(f"/r/{code}").content.decode()
    assert 'data-testid="own-link"' in page and 'name="password"' not in page
    assert ReferralCode.objects.get(code=code).opens == 2

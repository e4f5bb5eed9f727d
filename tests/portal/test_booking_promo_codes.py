"""Promo codes at booking: the price before confirming, no probing, no guessing."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import PromoCodeAttempt
from campaigns.throttle import MAX_WRONG_CODES
from retention.models import Job
from tests.factories import PromoCodeFactory

BOOK = "/customer-portal/book/"


def tomorrow():
    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


def price_check(client, service, code, **extra):
    return client.post(
        BOOK, {"service_type": service.pk, "scheduled_for": tomorrow(), "promo_code": code, **extra}
    )


def promo_error(response) -> str:
    match = re.search(r'data-testid="promo-error">([^<]*)<', response.content.decode())
    return match.group(1) if match else ""


@pytest.fixture
def own_code(customer, lawn):
    return PromoCodeFactory(customer=customer, discount_value=20)


def test_a_campaign_link_opens_booking_with_the_code_applied_and_the_price_shown(
    customer_client, provider, lawn, own_code
):
    response = customer_client.get(f"{BOOK}?service=lawn-care&code={own_code.code}")
    page = response.content.decode()
    assert 'data-testid="price-to-pay">$52.00<' in page  # 65.00 less 20%
    assert "Confirm booking" in page
    assert not Job.objects.exists()


def test_confirming_books_at_the_price_shown_and_uses_the_code(customer_client, provider, lawn, own_code):
    preview = price_check(customer_client, lawn, own_code.code)
    quoted = re.search(r'name="quoted" value="([^"]+)"', preview.content.decode()).group(1)
    response = price_check(customer_client, lawn, own_code.code, confirm="1", quoted=quoted)
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.amount_paid == job.price * 80 / 100
    own_code.refresh_from_db()
    assert own_code.used_at is not None and job.promo_code == own_code


def test_confirming_after_changing_the_service_shows_the_new_price_first(
    customer_client, provider, service_types, own_code
):
    lawn, hvac = service_types["lawn-care"], service_types["hvac"]
    preview = price_check(customer_client, lawn, own_code.code)
    quoted = re.search(r'name="quoted" value="([^"]+)"', preview.content.decode()).group(1)
    response = price_check(customer_client, hvac, own_code.code, confirm="1", quoted=quoted)
    assert response.status_code == 200
    assert 'data-testid="price-to-pay">$151.20<' in response.content.decode()
    assert not Job.objects.exists()


def test_an_unknown_code_and_another_customers_code_get_the_same_message(
    customer_client, provider, lawn, other_customer
):
    theirs = PromoCodeFactory(customer=other_customer)
    unknown = promo_error(price_check(customer_client, lawn, "ABCD-EFGH-JKMN"))
    not_mine = promo_error(price_check(customer_client, lawn, theirs.code))
    assert unknown == not_mine == "That promo code isn&#x27;t valid."


def test_my_own_expired_code_says_so(customer_client, provider, lawn, customer):
    expired = PromoCodeFactory(customer=customer, expires_at=timezone.now() - dt.timedelta(days=1))
    assert "expired on" in promo_error(price_check(customer_client, lawn, expired.code))


def test_my_own_used_code_says_so(customer_client, provider, lawn, customer):
    used = PromoCodeFactory(customer=customer, used_at=timezone.now() - dt.timedelta(days=1))
    assert promo_error(price_check(customer_client, lawn, used.code)) == "That promo code has already been used."


def test_ten_wrong_codes_in_15_minutes_throttle_even_the_right_code(customer_client, provider, lawn, own_code):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for i in range(MAX_WRONG_CODES):
            assert "isn&#x27;t valid" in promo_error(price_check(customer_client, lawn, f"WRNG-CODE-{i:04d}"))
            clock.shift(dt.timedelta(seconds=30))
        throttled = promo_error(price_check(customer_client, lawn, own_code.code))
        assert throttled.startswith("Too many promo codes tried. Try again in")
        assert 'data-testid="price-to-pay"' not in price_check(customer_client, lawn, own_code.code).content.decode()
        # 15 minutes after the first wrong code, one slot frees up.
        clock.move_to(start + dt.timedelta(minutes=15, seconds=1))
        response = price_check(customer_client, lawn, own_code.code)
        assert 'data-testid="price-to-pay">$52.00<' in response.content.decode()


def test_the_throttle_is_per_customer(client, provider, lawn, customer, other_customer):
    client.force_login(customer.user)
    for i in range(MAX_WRONG_CODES):
        price_check(client, lawn, f"WRNG-CODE-{i:04d}")
    assert promo_error(price_check(client, lawn, "WRNG-CODE-9999")).startswith("Too many")
    client.force_login(other_customer.user)
    theirs = PromoCodeFactory(customer=other_customer)
    assert 'data-testid="price-to-pay"' in price_check(client, lawn, theirs.code).content.decode()


def test_my_own_codes_and_no_code_do_not_count_as_wrong(customer_client, provider, lawn, customer, own_code):
    expired = PromoCodeFactory(customer=customer, expires_at=timezone.now() - dt.timedelta(days=1))
    for _ in range(MAX_WRONG_CODES + 2):
        price_check(customer_client, lawn, expired.code)
        price_check(customer_client, lawn, "")
    assert 'data-testid="price-to-pay">$52.00<' in price_check(customer_client, lawn, own_code.code).content.decode()
    assert PromoCodeAttempt.objects.filter(wrong=True).count() == 0


def test_a_wrong_code_in_a_campaign_link_counts_too(customer_client, provider, lawn):
    for i in range(MAX_WRONG_CODES):
        customer_client.get(f"{BOOK}?service=lawn-care&code=WRNG-CODE-{i:04d}")
    assert promo_error(customer_client.get(f"{BOOK}?service=lawn-care&code=WRNG-CODE-9999")).startswith("Too many")


def test_a_code_link_without_a_service_opens_on_a_service_the_code_covers(
    customer_client, provider, service_types, customer
):
    hvac_only = PromoCodeFactory(customer=customer, discount_value=20, service_types=[service_types["hvac"]])
    page = customer_client.get(f"{BOOK}?code={hvac_only.code}").content.decode()
    assert 'data-testid="price-to-pay">$151.20<' in page

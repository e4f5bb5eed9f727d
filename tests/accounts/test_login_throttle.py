"""Login throttling (django-axes): the pair (account, client address) is locked after
LOGIN_FAILURE_LIMIT wrong passwords, on the login page and the admin login, with the
same answer whether or not the account exists, until the cool-off passes."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from tests.factories import UserFactory

LOGIN = "/accounts/login/"
PASSWORD = "pw-for-tests"


AXES_LIMIT = 3


@pytest.fixture
def limit(settings):
    settings.AXES_FAILURE_LIMIT = AXES_LIMIT
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    return AXES_LIMIT


def log_in(email, password, *, ip="203.0.113.5", url=LOGIN):
    client = Client(REMOTE_ADDR=ip)
    return client.post(url, {"username": email, "password": password}), client


def fail(email, times, **kwargs):
    """`times` wrong passwords; at the limit-th the pair is locked (axes answers 429 to it)."""
    for attempt in range(1, times + 1):
        response, _ = log_in(email, "wrong-password", **kwargs)
        expected = 429 if attempt >= AXES_LIMIT else 200  # 200: the form again, "wrong email or password"
        assert response.status_code == expected


def test_the_right_password_after_the_limit_is_refused(customer, limit):
    fail(customer.email, limit)
    response, client = log_in(customer.email, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many attempts" in page and "Try again in 15 minutes" in page
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_are_forgiven_by_a_login(customer, limit):
    fail(customer.email, limit - 1)
    response, _ = log_in(customer.email, PASSWORD)
    assert response.status_code == 302
    fail(customer.email, limit - 1)  # counting starts again
    response, _ = log_in(customer.email, PASSWORD)
    assert response.status_code == 302


def test_the_lock_is_per_account_and_address(customer, other_customer, limit):
    fail(customer.email, limit, ip="203.0.113.5")
    # The customer from another address, and another account from the same address, log in.
    assert log_in(customer.email, PASSWORD, ip="198.51.100.7")[0].status_code == 302
    assert log_in(other_customer.email, PASSWORD, ip="203.0.113.5")[0].status_code == 302
    # Case and spaces do not make another account to guess at.
    assert log_in(customer.email.upper(), PASSWORD, ip="203.0.113.5")[0].status_code == 429


def test_an_unknown_account_gets_exactly_the_same_answers(customer, limit):
    known = [log_in(customer.email, "wrong")[0] for _ in range(limit + 1)]
    unknown = [log_in("nobody@example.com", "wrong")[0] for _ in range(limit + 1)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [200] * (limit - 1) + [429] * 2
    strip = lambda response: response.content.decode().replace(customer.email, "EMAIL").replace(  # noqa: E731
        "nobody@example.com", "EMAIL"
    )
    for a, b in zip(known, unknown, strict=True):
        # Only the CSRF token differs between two renderings of the same page.
        assert len(strip(a)) == len(strip(b))


def test_the_lock_ends_after_the_cool_off(customer, limit):
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        fail(customer.email, limit)
        assert log_in(customer.email, PASSWORD)[0].status_code == 429
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 16, tzinfo=dt.UTC), tick=False):
        assert log_in(customer.email, PASSWORD)[0].status_code == 302


def test_the_admin_login_is_throttled_too(db, limit):
    staff = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    fail(staff.email, limit, url="/admin/login/")
    response, _ = log_in(staff.email, PASSWORD, url="/admin/login/")
    assert response.status_code == 429


def test_staff_unlock_an_account_with_axes_reset_username(customer, limit):
    fail(customer.email, limit)
    call_command("axes_reset_username", customer.email)
    assert log_in(customer.email, PASSWORD)[0].status_code == 302


def test_behind_a_proxy_the_forwarded_address_counts(customer, limit, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(limit):
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").post(
            LOGIN, {"username": customer.email, "password": "wrong"}
        )
    proxy = "10.0.0.1"
    # Another client behind the same proxy is not locked out; a forged extra entry on
    # the left does not get the locked client a fresh count.
    other = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other.post(LOGIN, {"username": customer.email, "password": PASSWORD}).status_code == 302
    forged = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    assert forged.post(LOGIN, {"username": customer.email, "password": PASSWORD}).status_code == 429

"""Forgot password and the lockout message, in a real browser."""

import pytest

from outbox.models import OutboundEmail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_forgot_password_from_the_login_page(page, live_server, customer):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill(customer.email)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_test_id("reset-sent").wait_for()
    assert OutboundEmail.objects.get().template == "password_reset"


def test_too_many_wrong_passwords_show_when_to_try_again(page, live_server, customer, log_in, settings):
    settings.AXES_FAILURE_LIMIT = 2
    log_in(page, customer.email, "wrong-1")
    assert page.get_by_role("alert").is_visible()
    log_in(page, customer.email, "wrong-2")
    page.get_by_test_id("locked-out").wait_for()
    assert "Try again in 15 minutes" in page.get_by_test_id("locked-out").inner_text()
    log_in(page, customer.email)  # the right password, still locked
    page.get_by_test_id("locked-out").wait_for()

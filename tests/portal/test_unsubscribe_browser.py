"""The unsubscribe link in a real browser: one click from the email, no login."""

import pytest

from outbox.consent import unsubscribe_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_link_from_the_email_unsubscribes_in_one_click(page, live_server, customer, settings):
    settings.SITE_URL = live_server.url
    page.goto(unsubscribe_url(customer))  # logged out

    page.get_by_test_id("unsubscribed").wait_for()
    assert "You're unsubscribed" in page.content()
    customer.refresh_from_db()
    assert customer.marketing_opt_in is False and customer.service_reminders_opt_in is True


def test_preferences_page_in_the_browser(page, live_server, customer, log_in):
    log_in(page, customer.email)
    page.get_by_role("link", name="Email preferences").click()
    page.get_by_label("Seasonal offers and come-back discounts").uncheck()
    page.get_by_role("button", name="Save preferences").click()

    page.get_by_text("Your email preferences are saved.").wait_for()
    customer.refresh_from_db()
    assert customer.marketing_opt_in is False and customer.service_reminders_opt_in is True
    assert not page.get_by_label("Seasonal offers and come-back discounts").is_checked()

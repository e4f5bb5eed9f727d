"""The portal works on a phone-sized screen and with the keyboard alone."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_fit_a_phone_screen(live_server, browser, log_in):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, "demo@example.com", "demo-password")
    for path in ["/customer-portal/", "/customer-portal/book/", "/customer-portal/jobs/"]:
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    context.close()


def test_booking_with_the_keyboard_alone(live_server, page, log_in):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    log_in(page, "demo@example.com", "demo-password")
    page.goto(f"{live_server.url}/customer-portal/book/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_label("Service").focus()
    page.keyboard.press("End")  # last service alphabetically: Pool Service
    # On through the date (tomorrow is filled in; Chromium tabs through its month, day
    # and year) and the promo code, to the button.
    see_price = page.get_by_role("button", name="See price")
    for _ in range(8):
        page.keyboard.press("Tab")
        if see_price.evaluate("el => el === document.activeElement"):
            break
    expect(see_price).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("price-to-pay")).to_have_text("$95.00")
    page.get_by_role("button", name="Confirm booking").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Booked Pool Service")

"""In a real Chromium: the friend opens the link on a phone, signs up and sees the
welcome code on the dashboard (with and without JavaScript); the advocate copies the link."""

import pytest
from playwright.sync_api import expect

from referrals.models import Referral
from referrals.services import referral_code_for
from tests.factories import CustomerFactory

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def advocate_code(db):
    advocate = CustomerFactory(user__email="ada.advocate@example.com", user__name="Ada Advocate")
    return referral_code_for(customer=advocate).code


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_friend_signs_up_on_a_phone_and_sees_the_welcome_code(live_server, browser, advocate_code, javascript):
    context = browser.new_context(**PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server.url}/r/{advocate_code}")
    expect(page.get_by_test_id("advocate-name")).to_have_text("Ada")
    expect(page.get_by_test_id("friend-offer")).to_have_text("$20 off your first service")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the invitation page scrolls sideways by {overflow}px on a phone"

    page.get_by_label("Your name").fill("Fred Friend")
    page.get_by_label("Email").fill("fred@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign up and get $20 off").click()

    expect(page).to_have_url(f"{live_server.url}/customer-portal/")
    code = Referral.objects.get(friend__user__email="fred@example.org").welcome_code.code
    expect(page.get_by_test_id("promo-banner")).to_contain_text(code)
    expect(page.get_by_test_id("promo-banner")).to_contain_text("$20.00 off")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the dashboard scrolls sideways by {overflow}px on a phone"
    context.close()


def test_the_advocate_copies_the_link(live_server, browser, log_in, advocate_code):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    log_in(page, "ada.advocate@example.com")
    page.goto(f"{live_server.url}/customer-portal/")
    widget = page.get_by_test_id("referral-widget")
    link = widget.get_by_test_id("referral-link")
    expect(link).to_have_value(f"http://127.0.0.1:8000/r/{advocate_code}")

    widget.get_by_role("button", name="Copy link").click()

    expect(widget.locator("#referral-copied")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
    context.close()

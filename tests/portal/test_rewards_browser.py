"""The rewards page in a real Chromium: the demo customer redeems through the modal."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from loyalty.models import Redemption

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RED = "rgb(180, 35, 24)"  # --red in app.css


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))


def card(page, name):
    return page.get_by_test_id("reward-card").filter(has=page.get_by_role("heading", name=name, exact=True))


def test_demo_customer_redeems_an_affordable_reward_through_the_modal(demo, page, live_server, log_in):
    log_in(page, "demo@example.com", "demo-password")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rewards").click()
    expect(page).to_have_url(re.compile(r"/customer-portal/rewards/$"))
    # 534 earned + 50 goodwill + 500 for a referral - 100 redeemed (the demo history).
    expect(page.get_by_test_id("points-balance")).to_have_text("984")
    expect(page.get_by_test_id("tier-badge")).to_contain_text("Bronze")

    # Not enough points for this one: its button is disabled and says why.
    expensive = card(page, "Free pest control treatment")
    expect(expensive.get_by_role("button", name=re.compile("Redeem"))).to_be_disabled()
    expect(expensive).to_contain_text("You need 16 more points.")

    # The modal: details, cost breakdown and the balance after; Escape closes it.
    redeem = card(page, "$50 off any service").get_by_role("button", name=re.compile("Redeem"))
    redeem.click()
    dialog = page.get_by_test_id("redeem-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Redeem $50 off any service?")
    expect(dialog.get_by_test_id("remaining-preview")).to_have_text("384")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(redeem).to_be_focused()

    # Again, confirming from the keyboard (focus starts on the confirm button).
    redeem.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Confirm redemption")).to_be_focused()
    page.keyboard.press("Enter")

    voucher = dialog.get_by_test_id("voucher-code")
    expect(voucher).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-confetti-bursts", "1")
    assert page.locator("html").get_attribute("data-confetti") in ("running", "done")
    code = Redemption.objects.latest("created_at").voucher.code
    expect(voucher).to_have_text(code)
    expect(dialog.get_by_test_id("new-balance")).to_have_text("384")

    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("points-balance")).to_have_text("384")
    newest = page.get_by_test_id("points-history").locator("li").first
    expect(newest).to_contain_text("Redeemed $50 off any service")
    expect(newest.get_by_test_id("history-points")).to_have_text("−600")
    expect(newest.get_by_test_id("history-points")).to_have_css("color", RED)
    # The balance fell below this reward's cost, so it is now disabled too.
    expect(card(page, "Free lawn care visit").get_by_role("button", name=re.compile("Redeem"))).to_be_disabled()


def test_confetti_is_skipped_for_reduced_motion(demo, browser, live_server, log_in):
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    try:
        log_in(page, "demo@example.com", "demo-password")
        page.goto(f"{live_server.url}/customer-portal/rewards/")
        card(page, "$10 off any service").get_by_role("button", name=re.compile("Redeem")).click()
        page.get_by_role("button", name="Confirm redemption").click()
        expect(page.get_by_test_id("redeem-dialog").get_by_test_id("voucher-code")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("data-confetti", "reduced")
        expect(page.locator("canvas.confetti-canvas")).to_have_count(0)
    finally:
        context.close()


def test_without_javascript_redemption_is_a_plain_form_post(demo, browser, live_server, log_in):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "demo@example.com", "demo-password")
        page.goto(f"{live_server.url}/customer-portal/rewards/")
        card(page, "15% off any service").get_by_role("button", name=re.compile("Redeem")).click()
        expect(page.get_by_role("heading", name="Redeem 15% off any service?")).to_be_visible()
        expect(page.locator(".cost-total")).to_contain_text("734 points")
        page.get_by_role("button", name="Confirm redemption").click()
        panel = page.get_by_test_id("redeemed-panel")
        expect(panel).to_be_visible()
        expect(panel.get_by_test_id("voucher-code")).to_have_text(Redemption.objects.latest("created_at").voucher.code)
        expect(page.get_by_test_id("points-balance")).to_have_text("734")
    finally:
        context.close()


def test_the_rewards_page_and_its_dialog_fit_a_phone_screen(demo, browser, live_server, log_in):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, "demo@example.com", "demo-password")
        page.goto(f"{live_server.url}/customer-portal/rewards/")
        overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert page.evaluate(overflow) <= 0
        card(page, "$10 off any service").get_by_role("button", name=re.compile("Redeem")).click()
        dialog = page.get_by_test_id("redeem-dialog")
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        page.get_by_role("button", name="Confirm redemption").click()
        expect(dialog.get_by_test_id("voucher-code")).to_be_visible()
        assert page.evaluate(overflow) <= 0
    finally:
        context.close()

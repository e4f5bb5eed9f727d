"""Issue 18 in Chromium: what a person sees on a 390 px phone (stacked tables, checkboxes
beside their labels, readable chart labels), the voucher copy button, and the bell
counting a redemption's notification without a reload."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def within_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_tables_become_cards_with_every_column_on_screen(demo, phone, live_server, log_in):
    log_in(phone, "demo@example.com", "demo-password")
    phone.goto(f"{live_server.url}/customer-portal/services/")
    row = phone.get_by_test_id("service-row").first
    for part in (row.locator("[data-urgency], .status").first, row.get_by_role("link", name=re.compile("^Book"))):
        expect(part).to_be_visible()
        assert within_screen(part)
    phone.goto(f"{live_server.url}/customer-portal/jobs/")
    for amount in phone.get_by_test_id("job-amount").all():
        assert within_screen(amount)
    # Each cell says which column it is (the header row is for screen readers only).
    amount = phone.get_by_test_id("job-amount").first
    assert amount.evaluate("el => getComputedStyle(el, '::before').content") == '"Amount"'
    assert phone.get_by_role("columnheader", name="Amount").count() == 1


def test_preference_checkboxes_sit_beside_their_labels(demo, phone, live_server, log_in):
    log_in(phone, "demo@example.com", "demo-password")
    phone.goto(f"{live_server.url}/customer-portal/preferences/")
    checkboxes = phone.locator('input[type="checkbox"]')
    assert checkboxes.count() >= 2
    for i in range(checkboxes.count()):
        box = checkboxes.nth(i).bounding_box()
        label = phone.locator(f'label[for="{checkboxes.nth(i).get_attribute("id")}"]').bounding_box()
        assert box["width"] < 40, "a checkbox is its own size, not the row's"
        assert box["x"] + box["width"] <= label["x"], "the checkbox is left of its label"
        assert label["y"] - 8 <= box["y"] <= label["y"] + label["height"], "on the label's line"


def test_metrics_fit_a_phone_with_readable_axis_labels(demo, phone, live_server, log_in):
    log_in(phone, "admin@example.com", "demo-password")
    phone.goto(f"{live_server.url}/admin/metrics/?weeks=52")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    labels = phone.locator("svg.chart text")
    if labels.count():
        heights = [labels.nth(i).bounding_box()["height"] for i in range(min(labels.count(), 10))]
        assert min(heights) >= 9, f"axis labels drawn {min(heights):.1f}px tall"


def test_the_voucher_copy_button_copies_the_code(demo, browser, live_server, log_in):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    log_in(page, "demo@example.com", "demo-password")
    page.goto(f"{live_server.url}/customer-portal/rewards/")
    voucher = page.get_by_test_id("voucher").first
    code = voucher.locator("code").inner_text()
    voucher.get_by_role("button", name=re.compile("^Copy")).click()
    expect(page.locator("#voucher-copied")).to_have_text(f"{code} copied.")
    assert page.evaluate("navigator.clipboard.readText()") == code
    context.close()


def test_the_bell_counts_a_redemption_without_a_reload(demo, page, live_server, log_in):
    log_in(page, "demo@example.com", "demo-password")
    page.goto(f"{live_server.url}/customer-portal/rewards/")
    bell = page.locator("#bell")
    before = int(page.get_by_test_id("unread-count").inner_text()) if page.get_by_test_id("unread-count").count() else 0
    vouchers_before = page.get_by_test_id("voucher").count()
    page.evaluate("window.__sameDocument = true")
    card = page.get_by_test_id("reward-card").filter(has=page.get_by_role("heading", name="$50 off any service", exact=True))
    card.get_by_role("button", name=re.compile("Redeem")).click()
    page.get_by_test_id("redeem-dialog").get_by_role("button", name="Confirm redemption").click()
    expect(page.get_by_test_id("redeem-dialog").get_by_test_id("voucher-code")).to_be_visible()
    expect(bell).to_have_attribute("aria-label", f"Notifications, {before + 1} unread")
    expect(page.get_by_test_id("unread-count")).to_have_text(str(before + 1))
    expect(page.get_by_test_id("voucher")).to_have_count(vouchers_before + 1)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened

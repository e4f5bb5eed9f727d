"""In a real browser, on the demo data: book a bundle from the widget; a
recommendation's Book button opens booking with that service chosen."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from retention.models import Job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_book_a_bundle_from_the_widget(live_server, page, log_in):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    log_in(page, "demo@example.com", "demo-password")
    widget = page.get_by_test_id("bundles-widget")
    expect(widget.get_by_test_id("bundle")).to_have_count(1)  # the demo's one bundle for this month
    expect(widget.get_by_test_id("bundle-saving")).to_have_text(re.compile(r"^Save \$\d+\.\d\d$"))
    name = widget.locator("h3").inner_text()
    before = set(Job.objects.values_list("pk", flat=True))
    widget.get_by_role("link", name=f"Book the {name} bundle").click()

    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_test_id("no-promo-note")).to_contain_text("no promo code")
    price = page.get_by_test_id("bundle-price").inner_text()
    page.get_by_role("button", name=f"Book bundle for {price}").click()
    expect(page).to_have_url(re.compile(r"/customer-portal/jobs/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Booked the {name} bundle")
    expect(page.get_by_role("status")).to_contain_text(f"for {price}")
    booked = Job.objects.exclude(pk__in=before).filter(customer__user__email="demo@example.com", status="scheduled")
    assert booked.count() == 2
    assert f"${sum(j.amount_paid for j in booked)}" == price


def test_a_recommendations_book_button_preselects_the_service(live_server, page, log_in):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    log_in(page, "demo@example.com", "demo-password")
    items = page.get_by_test_id("recommendation")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_have_attribute("data-reason", "due")
    expect(items.nth(1)).to_have_attribute("data-reason", "on_offer")
    expect(items.nth(2)).to_have_attribute("data-reason", "booked_together")
    service = items.nth(1).locator("strong").inner_text()
    # With the keyboard: focus the on-offer service's Book button and press Enter.
    items.nth(1).get_by_role("link", name=f"Book {service}").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/customer-portal/book/\?service="))
    expect(page.get_by_label("Service").locator("option:checked")).to_contain_text(service)  # "HVAC ($189.00)"

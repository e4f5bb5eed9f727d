"""The demo customer's ServiceDueAlert, "View All Services" and "Book", in Chromium."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alert_view_all_services_and_book(live_server, page, log_in):
    # The demo data: lawn care done 12 days ago (every 14 days) is due in 2 days.
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    log_in(page, "demo@example.com", "demo-password")
    expect(page).to_have_url(re.compile(r"/customer-portal/$"))

    alert = page.get_by_test_id("service-due-alert")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("heading")).to_contain_text("Lawn Care is due in 2 days")
    expect(alert.get_by_test_id("urgency-badge")).to_have_text("Due soon")
    expect(alert.get_by_role("link", name=re.compile("Call Provider"))).to_have_attribute("href", "tel:5550199")

    alert.get_by_role("link", name="View All Services").click()
    expect(page).to_have_url(re.compile(r"/customer-portal/services/$"))
    expect(page.get_by_role("heading", name="Your services")).to_be_visible()
    rows = page.get_by_test_id("service-row")
    expect(rows).to_have_count(4)
    for name in ("Lawn Care", "Pool Service", "Pest Control", "HVAC"):
        expect(page.get_by_role("rowheader", name=name)).to_be_visible()
    lawn = page.locator('[data-testid="service-row"][data-service="lawn-care"]')
    expect(lawn).to_contain_text("Due soon")
    expect(lawn).to_contain_text("in 2 days")

    lawn.get_by_role("link", name="Book Lawn Care").click()
    expect(page).to_have_url(re.compile(r"/customer-portal/book/\?service=lawn-care$"))
    expect(page.get_by_role("heading", name="Book a service")).to_be_visible()
    service = page.get_by_label("Service")
    expect(service.locator("option:checked")).to_have_text(re.compile(r"^Lawn Care \(\$"))

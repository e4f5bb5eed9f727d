"""In a real browser: the demo customer books, the provider completes, the customer
sees it in recent activity."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_book_complete_and_see_it_in_recent_activity(live_server, browser, log_in):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    customer = browser.new_page()
    log_in(customer, "demo@example.com", "demo-password")
    expect(customer).to_have_url(re.compile(r"/customer-portal/$"))
    expect(customer.get_by_role("heading", name="Hi Dana")).to_be_visible()

    # Book pest control with the keyboard-reachable form: see the price, then confirm.
    customer.get_by_role("link", name="Book", exact=True).click()
    customer.get_by_label("Service").select_option(label="Pest Control ($120.00)")
    customer.get_by_role("button", name="See price").click()
    expect(customer.get_by_test_id("price-to-pay")).to_have_text("$120.00")
    customer.get_by_role("button", name="Confirm booking").click()
    expect(customer.get_by_role("status")).to_contain_text("Booked Pest Control")

    provider = browser.new_page()
    log_in(provider, "provider@example.com", "demo-password")
    expect(provider).to_have_url(re.compile(r"/provider-portal/$"))
    job = provider.get_by_test_id("provider-job").filter(has_text="Pest Control").filter(has_text="Dana Demo")
    expect(job).to_have_count(1)
    job.get_by_role("button", name="Mark completed").click()
    expect(provider.get_by_role("status")).to_contain_text("Marked Pest Control for Dana Demo completed")

    customer.goto(f"{live_server.url}/customer-portal/")
    activity = customer.get_by_test_id("recent-activity")
    expect(activity.locator("li").first).to_contain_text("Pest Control completed by GreenLeaf Home Services")
    expect(customer.get_by_test_id("unread-count")).to_be_visible()
    customer.close()
    provider.close()

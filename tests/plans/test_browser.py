"""In a real Chromium: subscribe from the dashboard's SubscriptionWidget, see the next
visit, skip it and see the one after."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from plans.models import PlanVisit, Subscription

from .conftest import TODAY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shown(day: dt.date) -> str:
    return f"{day:%A, %B} {day.day}"


def test_subscribe_from_the_widget_see_the_next_visit_and_skip_it(page, live_server, log_in, customer, provider, pool_plan, pest_plan):
    log_in(page, customer.email)
    widget = page.get_by_test_id("subscription-widget")
    expect(widget).to_be_visible()
    first = TODAY + dt.timedelta(days=3)
    widget.get_by_label("Keep on schedule with a plan").select_option(value=str(pool_plan.pk))
    widget.get_by_label("First visit").fill(first.isoformat())
    widget.get_by_role("button", name="Subscribe").click()

    expect(page.locator(".messages[role=status]")).to_contain_text("You're on the Weekly pool care plan")
    expect(page).to_have_url(re.compile(r"/customer-portal/$"))
    widget = page.get_by_test_id("subscription-widget")
    expect(widget.get_by_test_id("plan-next-visit")).to_contain_text(shown(first))
    expect(page.get_by_test_id("next-job")).to_contain_text("Weekly pool care plan visit")

    widget.get_by_role("button", name="Skip this visit").click()
    expect(page.locator(".messages[role=status]")).to_contain_text("Visit skipped")
    after = first + dt.timedelta(days=7)
    expect(page.get_by_test_id("subscription-widget").get_by_test_id("plan-next-visit")).to_contain_text(shown(after))

    subscription = Subscription.objects.get(customer=customer)
    visits = dict(PlanVisit.objects.filter(subscription=subscription).values_list("scheduled_for", "status"))
    assert visits == {first: "skipped", after: "booked"}

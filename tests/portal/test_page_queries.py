"""Every customer page and JSON endpoint, and the provider portal, costs the same number
of queries for a customer with one row of history as for one with 200 ledger lines, 50
jobs and 100 notifications (the sizes bench/pages.py measures)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django.test.utils import CaptureQueriesContext

from loyalty.models import VOUCHER_SOURCE
from retention.models import PromoCode
from tests.factories import CampaignFactory, CustomerFactory, UserFactory
from tests.page_data import BASELINE_URL, RECORDS_SHOWN, customer_urls, give_history, provider_urls

SMALL = {"ledger_entries": 1, "jobs": 1, "notifications": 1}
LARGE = {"ledger_entries": 200, "jobs": 50, "notifications": 100}


def queries_for(client, url) -> int:
    client.get(url)  # the first request of a session may differ (session or CSRF cookie set)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def customers(service_types, provider, staff):
    small, large = CustomerFactory(), CustomerFactory()
    give_history(small, provider=provider, staff=staff, **SMALL)
    give_history(large, provider=provider, staff=staff, **LARGE)
    return small, large




@pytest.mark.parametrize("url", [BASELINE_URL, *customer_urls()])
def test_customer_page_queries_do_not_grow_with_history(client, customers, url):
    small, large = customers
    client.force_login(small.user)
    few = queries_for(client, url)
    client.force_login(large.user)
    many = queries_for(client, url)
    allowed = {few, few + 1} if url in RECORDS_SHOWN else {few}
    assert many in allowed, f"{url}: {few} queries with one row of history, {many} with a long one"


@pytest.mark.parametrize("url", provider_urls())
def test_provider_page_queries_do_not_grow_with_jobs(client, provider, staff, service_types, url):
    client.force_login(provider.user)
    give_history(CustomerFactory(), provider=provider, staff=staff, **SMALL)
    few = queries_for(client, url)
    give_history(CustomerFactory(), provider=provider, staff=staff, **LARGE)
    many = queries_for(client, url)
    assert few == many, f"{url}: {few} queries with one job, {many} with 51"


def test_the_notifications_page_shows_a_page_at_a_time(client, customer, provider, staff, service_types):
    give_history(customer, provider=provider, staff=staff, ledger_entries=1, jobs=1, notifications=30)
    client.force_login(customer.user)
    first = client.get("/customer-portal/notifications/").content.decode()
    second = client.get("/customer-portal/notifications/?page=2").content.decode()
    assert first.count('data-testid="notification"') == 25 and "Update 0<" in first  # the newest first
    assert second.count('data-testid="notification"') == 5 and "Update 29<" in second
    assert "Page 1 of 2" in first


def test_the_provider_portal_lists_scheduled_jobs_a_page_at_a_time(client, provider, lawn):
    from tests.factories import JobFactory

    customer = CustomerFactory()
    import datetime as dt

    from django.utils import timezone

    start = timezone.localdate() + dt.timedelta(days=1)
    for i in range(23):
        JobFactory(customer=customer, provider=provider, service_type=lawn, scheduled_for=start + dt.timedelta(days=i))
    client.force_login(provider.user)
    first = client.get("/provider-portal/").content.decode()
    second = client.get("/provider-portal/?page=2").content.decode()
    assert first.count('data-testid="provider-job"') == 20 and "Page 1 of 2" in first
    assert second.count('data-testid="provider-job"') == 3


@pytest.mark.parametrize("url", ["/customer-portal/book/", "/customer-portal/rewards/"])
def test_pages_listing_codes_cost_the_same_for_none_or_several(client, customer, service_types, url):
    """The booking page's code picker and the rewards page's vouchers read each code's
    services in the codes' own query, not one query per code."""
    client.force_login(customer.user)
    none = queries_for(client, url)
    for covered in ([service_types["lawn-care"]], [service_types["pool-service"], service_types["hvac"]], []):
        promo = PromoCode.objects.create(
            customer=customer,
            source=VOUCHER_SOURCE,
            discount_type=PromoCode.DiscountType.PERCENT,
            discount_value=Decimal(10),
            expires_at=timezone.now() + dt.timedelta(days=30),
        )
        promo.service_types.set(covered)
    page = client.get(url).content.decode()
    assert page.count('data-services=' if "book" in url else 'data-testid="voucher"') == 3
    assert queries_for(client, url) == none


# What each of these pages costs, with the three queries every logged-in request makes
# (session, user, customer or provider): a page that grows past its count fails here.
PAGE_QUERIES = {
    "/customer-portal/rewards/": 8,  # + bell, account, newest ledger lines, vouchers, rewards
    "/customer-portal/rewards/history/": 6,  # + bell, count, page
    "/customer-portal/services/": 5,  # + bell, services
    "/customer-portal/jobs/": 6,  # + bell, count, page
    "/customer-portal/notifications/": 6,  # + bell, count, page
    "/customer-portal/book/": 6,  # + bell, service types, codes
    "/api/customer/jobs/due": 4,  # + due jobs
    "/api/customer/plans": 5,  # + plans, subscriptions
    "/provider-portal/": 6,  # + count, scheduled page, completed
}


@pytest.mark.parametrize("url", PAGE_QUERIES)
def test_each_page_costs_its_fixed_number_of_queries(client, customers, provider, url):
    _small, large = customers
    client.force_login(provider.user if url.startswith("/provider") else large.user)
    assert queries_for(client, url) == PAGE_QUERIES[url]


# With a campaign running (all year, so the day the tests run does not matter): the
# campaign and its service types are one query, the customer's code for it another.
RUNNING_CAMPAIGN_QUERIES = {
    "/api/customer/seasonal-campaign": 5,  # + campaign with its service types, the customer's send
    "/customer-portal/": 14,
}


@pytest.mark.parametrize("url", RUNNING_CAMPAIGN_QUERIES)
def test_the_running_campaign_costs_two_queries_read_fresh(client, customers, service_types, url):
    campaign = CampaignFactory(season="spring", start_month=1, end_month=12)
    campaign.service_types.set(service_types.values())
    _small, large = customers
    client.force_login(large.user)
    assert queries_for(client, url) == RUNNING_CAMPAIGN_QUERIES[url]

"""The dashboard and the provider portal cost the same number of queries however
many jobs there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import JobFactory, NotificationFactory

# Each widget of the seed's widget section adds its own fixed count.
BUNDLES = 1  # the bundles offered with their services
RECOMMENDATIONS = 2  # every service's reasons (the services due are the alert's), the insert recording what was shown


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def history(customer, provider, service_types):
    def make(n):
        for i in range(n):
            service = list(service_types.values())[i % 4]
            JobFactory(customer=customer, provider=provider, service_type=service, completed_days_ago=5 + i)
            JobFactory(customer=customer, provider=provider, service_type=service)
            NotificationFactory(customer=customer)

    return make


def test_dashboard_queries_do_not_grow_with_jobs(customer_client, history):
    history(1)
    few = queries_for(customer_client, "/customer-portal/")
    history(30)
    many = queries_for(customer_client, "/customer-portal/")
    assert few == many
    # 12 before the referral widget (1: its code and counts; the first view creates the
    # code) and the SubscriptionWidget (1); then bundles and recommendations.
    assert many <= 14 + BUNDLES + RECOMMENDATIONS, f"dashboard takes {many} queries"


def test_provider_portal_queries_do_not_grow_with_jobs(client, provider, history):
    client.force_login(provider.user)
    history(1)
    few = queries_for(client, "/provider-portal/")
    history(30)
    many = queries_for(client, "/provider-portal/")
    assert few == many
    assert many <= 8, f"provider portal takes {many} queries"


def test_jobs_page_queries_do_not_grow_with_jobs(customer_client, history):
    history(1)
    few = queries_for(customer_client, "/customer-portal/jobs/")
    history(15)
    assert queries_for(customer_client, "/customer-portal/jobs/") == few

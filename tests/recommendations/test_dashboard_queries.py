"""The dashboard, with every widget showing something, costs the same number of
queries with 1 job as with 200."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bundles.models import Bundle
from recommendations.models import ServicePair
from retention.models import Job
from tests.factories import CampaignFactory, JobFactory

from .conftest import TODAY


def queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/customer-portal/").content.decode()
    return len(captured), html


def test_constant_with_1_and_200_jobs(customer_client, customer, provider, service_types):
    lawn, pool, pest, hvac = (
        service_types[s] for s in ("lawn-care", "pool-service", "pest-control", "hvac")
    )
    bundle = Bundle.objects.create(name="Yard and Pool", discount_percent=10)
    bundle.service_types.set([lawn, pool])
    CampaignFactory(season="summer", start_month=6, end_month=8, service_types=[pool])
    ServicePair.objects.create(
        service_type=lawn,
        recommended=hvac,
        customers=5,
        support=0.1,
        confidence=0.5,
        lift=1.5,
        as_of=TODAY,
    )
    JobFactory(
        customer=customer, provider=provider, service_type=lawn, completed_days_ago=12
    )  # due in 2 days

    customer_client.get("/customer-portal/")  # the day's first view records what it shows
    one, html = queries(customer_client)
    assert (
        html.count('data-testid="recommendation"') == 3 and 'data-testid="bundles-widget"' in html
    )
    assert Job.objects.count() == 1

    services = [lawn, pool, pest, hvac]
    JobFactory.create_batch(
        149,
        customer=customer,
        provider=provider,
        service_type=pest,
        status=Job.Status.CANCELLED,
        scheduled_for=TODAY - dt.timedelta(days=40),
    )
    for i in range(50):
        JobFactory(
            customer=customer,
            provider=provider,
            service_type=services[i % 2 * 3],
            completed_days_ago=400 + i,
        )
    assert Job.objects.count() == 200
    many, html = queries(customer_client)
    assert (
        html.count('data-testid="recommendation"') == 3 and 'data-testid="bundles-widget"' in html
    )
    assert one == many

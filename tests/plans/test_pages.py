"""The plans page, the SubscriptionWidget and plan visits shown as such on the
dashboard, the jobs page and the provider portal."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.actions import subscribe
from plans.models import Subscription

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_widget_offers_plans_then_shows_the_next_visit(customer_client, customer, provider, pool_plan, pest_plan):
    _count, html = queries(customer_client, "/customer-portal/")
    assert 'data-testid="subscription-widget"' in html and "Weekly pool care" in html
    subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY + dt.timedelta(days=2))
    _count, html = queries(customer_client, "/customer-portal/")
    assert 'data-testid="plan-next-visit"' in html and (TODAY + dt.timedelta(days=2)).strftime("%B %-d") in html
    assert 'data-testid="plan-visit-badge"' in html  # the next job is a plan visit


def test_the_dashboard_query_count_does_not_grow_with_subscriptions(customer_client, customer, provider, pool_plan, pest_plan):
    subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    one, _ = queries(customer_client, "/customer-portal/")
    subscribe(customer=customer, plan_id=pest_plan.pk, start_date=TODAY)
    two, _ = queries(customer_client, "/customer-portal/")
    assert one == two


def test_jobs_page_and_provider_portal_show_plan_visits(client, customer, provider, pool_plan):
    subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    client.force_login(customer.user)
    assert "Weekly pool care plan visit" in queries(client, "/customer-portal/jobs/")[1]
    client.force_login(provider.user)
    assert "Weekly pool care plan visit" in queries(client, "/provider-portal/")[1]


def test_the_plans_page_subscribes_skips_and_shows_history(customer_client, customer, provider, pool_plan):
    response = customer_client.post(
        "/customer-portal/plans/subscribe/", {"plan": str(pool_plan.pk), "start_date": TODAY.isoformat()}
    )
    assert response.status_code == 302
    subscription = Subscription.objects.get(customer=customer)
    response = customer_client.post(
        f"/customer-portal/plans/{subscription.pk}/skip/", {"visit_date": TODAY.isoformat()}, follow=True
    )
    html = response.content.decode()
    assert "Visit skipped" in html and "Skipped a visit" in html
    assert (TODAY + dt.timedelta(days=7)).strftime("%B %-d") in html


def test_the_plans_page_refuses_a_past_date_and_changes_nothing(customer_client, provider, pool_plan):
    response = customer_client.post(
        "/customer-portal/plans/subscribe/",
        {"plan": str(pool_plan.pk), "start_date": (TODAY - dt.timedelta(days=1)).isoformat()},
        follow=True,
    )
    assert "Pick today or a later date" in response.content.decode()
    assert not Subscription.objects.exists()


def test_another_customers_subscription_cannot_be_changed_from_the_page(client, customer, other_customer, provider, pool_plan):
    subscription = subscribe(customer=customer, plan_id=pool_plan.pk, start_date=TODAY)
    client.force_login(other_customer.user)
    response = client.post(f"/customer-portal/plans/{subscription.pk}/cancel/", follow=True)
    assert "No such subscription" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "active"

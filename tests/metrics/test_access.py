"""Only staff open the metrics page and its exports."""

import pytest

from tests.factories import UserFactory

URLS = [
    "/admin/metrics/",
    "/admin/metrics/?weeks=52",
    "/admin/metrics/campaigns.csv",
    "/admin/metrics/churn.csv?weeks=4",
]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_go_to_the_login_page(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/admin/metrics/")


@pytest.mark.parametrize("url", URLS)
def test_customers_are_refused(customer_client, url):
    assert customer_client.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_providers_are_refused(provider_client, url):
    assert provider_client.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
def test_staff_get_it(staff_client, url):
    assert staff_client.get(url).status_code == 200


def test_an_inactive_staff_account_is_not_let_in(client, db):
    client.force_login(UserFactory(is_staff=True, is_active=False))
    assert client.get("/admin/metrics/").status_code != 200


def test_the_admin_index_links_to_the_metrics(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert '<a href="/admin/metrics/">' in html
    assert 'id="recent-actions-module"' in html  # the admin's own index is still there

"""The referral funnel on /admin/metrics/: links opened, sign-ups, first jobs, rewards
and blocked, with CSV, in one query within the page's fixed budget."""

import csv
import io

import pytest
from django.test import Client

from tests.factories import JobFactory, UserFactory
from tests.metrics.test_queries import PAGE_QUERIES

from .conftest import complete, post_sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db):
    client = Client()
    client.force_login(UserFactory(email="stella@example.com", is_staff=True))  # as tests/metrics do
    return client


@pytest.fixture
def funnel_data(code, provider, lawn):
    for _ in range(3):
        Client().get(f"/r/{code}")
    post_sign_up(Client(), code, name="Fred Friend", email="fred@example.org", ip="198.51.100.1")
    post_sign_up(Client(), code, name="Greta Garden", email="greta@example.org", ip="198.51.100.2")
    post_sign_up(Client(), code, name="Ada Advocate", email="twin@example.org", ip="198.51.100.3")  # blocked
    from retention.models import Customer

    for email in ("fred@example.org", "twin@example.org"):
        complete(JobFactory(customer=Customer.objects.get(user__email=email), provider=provider, service_type=lawn))


def test_the_funnel_section_and_its_csv(staff_client, funnel_data):
    page = staff_client.get("/admin/metrics/?weeks=4").content.decode()
    assert 'id="referrals"' in page and "Referral funnel" in page

    response = staff_client.get("/admin/metrics/referral-funnel.csv?weeks=4")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Step", "Count", "Of the step before (%)"]
    assert rows[1:] == [
        ["Links opened", "3", ""],
        ["Sign-ups", "3", "100.0"],
        ["First jobs completed", "2", "66.7"],
        ["Rewards given", "1", "50.0"],
        ["Blocked", "1", ""],
    ]


def test_the_page_keeps_its_fixed_query_count_with_referral_data(staff_client, funnel_data, django_assert_num_queries):
    with django_assert_num_queries(PAGE_QUERIES):
        staff_client.get("/admin/metrics/?weeks=12")


def test_the_export_runs_one_query_for_the_funnel(staff_client, funnel_data, django_assert_num_queries):
    from tests.metrics.test_queries import REPORT

    with django_assert_num_queries(2 + REPORT + 1):
        staff_client.get("/admin/metrics/referral-funnel.csv?weeks=52")

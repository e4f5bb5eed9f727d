"""The page runs a fixed number of aggregate queries, however much data there is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import ALL_DATA

# 2 for the session and user, 2 for the staff member's permissions (the admin's app
# list), 1 for the portal's context processor (is this user a customer?), 2 for the
# daily figures every section shares (metrics.rollup: which days are rolled up and the
# change journal, then the roll-up and the facts of the other days summed per week),
# 9 for the rest of the figures (the campaigns 1, the rewards 1, tiers today 1,
# referrals 1, churn 1, plans 2, job runs 2), 2 for the holdout groups (the comparison
# and the ended holdouts), 1 for recommendations (per reason, shown and booked) and 3
# for their transaction with JIT off (in a test: savepoint, SET LOCAL jit, release).
REPORT = 3
DAILY = 2
HOLDOUTS = 2
RECOMMENDATIONS = 1
PAGE_QUERIES = 2 + 2 + 1 + DAILY + 9 + HOLDOUTS + RECOMMENDATIONS + REPORT
# issue 19's goal, outside a test (no savepoint and release): 24 queries or fewer.
assert PAGE_QUERIES - 2 <= 24


def page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("weeks", [4, 12, 52])
def test_the_page_query_count_is_fixed(staff_client, django_assert_num_queries, weeks):
    with django_assert_num_queries(PAGE_QUERIES):
        staff_client.get(f"/admin/metrics/?weeks={weeks}")


def test_the_query_count_does_not_grow_with_the_data(staff_client, request):
    empty = page_queries(staff_client, "/admin/metrics/?weeks=12")
    for data in ALL_DATA:
        request.getfixturevalue(data)
    full = page_queries(staff_client, "/admin/metrics/?weeks=12")
    assert empty == full == PAGE_QUERIES


def test_an_export_runs_only_its_sections_queries(
    staff_client, campaign_data, django_assert_num_queries
):
    with django_assert_num_queries(2 + REPORT + DAILY + 1):  # session and user, the campaigns section
        staff_client.get("/admin/metrics/campaigns.csv?weeks=12")
    with django_assert_num_queries(2 + REPORT + DAILY + 1):
        staff_client.get("/admin/metrics/churn.csv?weeks=52")
    with django_assert_num_queries(2 + REPORT + HOLDOUTS):
        staff_client.get("/admin/metrics/holdouts.csv?weeks=12")

"""The ReferralWidget on the dashboard and referrals on the rewards page's "Ways to earn"."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from referrals.models import ReferralCode
from tests.factories import JobFactory

from .conftest import complete, post_sign_up

pytestmark = pytest.mark.django_db


def number(page, testid):
    return int(re.search(rf'data-testid="{testid}">(\d+)<', page).group(1))


def test_the_widget_shows_the_link_share_and_counts(client, advocate, code, friend, provider, lawn, settings):
    settings.SITE_URL = "https://retention.example.com"
    Client().get(f"/r/{code}")  # an opening by someone else
    complete(JobFactory(customer=friend, provider=provider, service_type=lawn))
    post_sign_up(Client(), code, name="Greta Garden", email="greta@example.org", ip="198.51.100.9")
    client.force_login(advocate.user)

    page = client.get("/customer-portal/").content.decode()

    assert 'data-testid="referral-widget"' in page
    assert f'value="https://retention.example.com/r/{code}"' in page
    assert "data-copy-target" in page and "data-share-url" in page
    mailto = re.search(r'href="(mailto:[^"]+)" data-testid="referral-mailto"', page).group(1)
    assert "subject=" in mailto and f"https%3A//retention.example.com/r/{code}" in mailto
    assert number(page, "referral-invited") == 1
    assert number(page, "referral-joined") == 2
    assert number(page, "referral-rewarded") == 1
    assert number(page, "referral-points") == 500


def test_a_new_customer_gets_a_code_on_first_sight(client, customer):
    client.force_login(customer.user)
    assert not ReferralCode.objects.filter(pk=customer.pk).exists()
    client.get("/customer-portal/")
    code = ReferralCode.objects.get(pk=customer.pk).code
    assert re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{9}", code)
    client.get("/customer-portal/")
    assert ReferralCode.objects.get(pk=customer.pk).code == code


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/customer-portal/", "/api/customer/referrals"])
def test_query_counts_do_not_grow_with_referrals(client, advocate, code, url):
    client.force_login(advocate.user)
    first = queries(client, url)  # creates nothing: the code exists; the first sight is tested above
    for i in range(12):
        post_sign_up(Client(), code, name=f"Friend Number{i}", email=f"f{i}@example.org", ip=f"198.51.100.{i}")
    assert queries(client, url) == first


def test_the_dashboard_writes_the_code_once_and_then_only_reads_it(client, customer):
    client.force_login(customer.user)
    with CaptureQueriesContext(connection) as first:
        client.get("/customer-portal/")
    with CaptureQueriesContext(connection) as second:
        client.get("/customer-portal/")
    inserts = [q["sql"] for q in first if 'INSERT INTO "referrals_referralcode"' in q["sql"]]
    assert len(inserts) == 1
    # The first sight: the code is read, found missing, inserted and read again.
    assert len(first) == len(second) + 2
    assert not [q for q in second if "referrals_referralcode" in q["sql"] and not q["sql"].startswith("SELECT")]


def test_ways_to_earn_lists_referrals_with_the_real_numbers(client, customer, settings):
    settings.REFERRAL_FRIEND_DISCOUNT = 25
    settings.REFERRAL_ADVOCATE_POINTS = 750
    settings.REFERRAL_MAX_PER_YEAR = 12
    client.force_login(customer.user)
    page = client.get("/customer-portal/rewards/").content.decode()
    line = re.search(r'data-testid="ways-to-earn-referral">(.*?)</li>', page, re.S).group(1)
    assert "$25 off their first service" in line and "750 points" in line and "up to 12 friends a year" in line

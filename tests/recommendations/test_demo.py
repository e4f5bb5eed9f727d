"""seed_demo: two bundles; the demo customer sees one bundle and three
recommendations, one of each reason, whatever the month."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command

from bundles.models import Bundle
from bundles.selectors import bundle_offers
from recommendations.selectors import recommendations_for
from retention.models import Customer

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def july():  # this folder's fixed day is replaced by each month below
    yield


@pytest.mark.parametrize(
    "month",
    [
        1,
        4,
        pytest.param(
            7,
            marks=pytest.mark.xfail(
                strict=True,
                reason="the demo's summer campaign covers only pool service, which the demo "
                "customer has on a plan (plans.demo): nothing is on offer for them in summer",
            ),
        ),
        10,
    ],
)
def test_the_demo_customer_sees_one_bundle_and_one_recommendation_of_each_reason(db, month):
    with time_machine.travel(dt.datetime(2026, month, 10, 12, tzinfo=NEW_YORK), tick=False):
        call_command("seed_demo", stdout=open("/dev/null", "w"))
        assert Bundle.objects.count() == 2
        demo = Customer.objects.get(user__email="demo@example.com")
        assert len(bundle_offers(customer=demo)) == 1
        assert [r.reason_code for r in recommendations_for(customer=demo)] == [
            "due",
            "on_offer",
            "booked_together",
        ]
        call_command("seed_demo", stdout=open("/dev/null", "w"))
        assert Bundle.objects.count() == 2

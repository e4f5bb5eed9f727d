"""Holdout rules one by one, where the job-level tests do not pin them: what the bucket
depends on and its range, the "below the percentage" rule, when a holdout is off or
ended, and which assignment rows hold a customer back."""

import datetime as dt

import pytest
from django.utils import timezone

from experiments.assign import (
    Holdout,
    bucket,
    end_holdout,
    held_out_of_season,
    held_out_of_winback_since,
    holdout_ended_on,
    holdout_for,
)
from experiments.models import Assignment, HoldoutEnd, Send
from retention.models import Customer
from tests.factories import CampaignFactory, CustomerFactory, UserFactory

from .conftest import MONDAY

CUSTOMERS = range(1, 1001)


def buckets(**send) -> list[int]:
    return [bucket(c, **send) for c in CUSTOMERS]


def test_the_bucket_depends_on_the_send_the_campaign_and_the_season():
    base = {"send": "seasonal", "campaign_id": "a", "season": "2026"}
    assert buckets(**base) != buckets(**{**base, "send": "winback"})
    assert buckets(**base) != buckets(**{**base, "campaign_id": "b"})
    assert buckets(**base) != buckets(**{**base, "season": "2027"})
    assert set(buckets(**base)) == set(range(100))  # 0-99, every one reached


def test_held_out_is_a_bucket_below_the_percentage():
    holdout = Holdout(send="winback", campaign_id=None, season="2027-01", as_of=MONDAY, percent=1)
    for other in ({"send": "seasonal"}, {"season": "2027-02"}):
        assert [holdout.holds_out(c) for c in CUSTOMERS] != [
            Holdout(**{**holdout.__dict__, **other}).holds_out(c) for c in CUSTOMERS
        ]
    held = [c for c in CUSTOMERS if holdout.holds_out(c)]
    assert held and held == [c for c in CUSTOMERS if bucket(c, send="winback", campaign_id=None, season="2027-01") == 0]
    campaign_holdout = Holdout(send="seasonal", campaign_id="a", season="2026", as_of=MONDAY, percent=50)
    assert [campaign_holdout.holds_out(c) for c in CUSTOMERS] != [
        Holdout(**{**campaign_holdout.__dict__, "campaign_id": "b"}).holds_out(c) for c in CUSTOMERS
    ]


@pytest.mark.django_db
def test_a_holdout_of_one_percent_is_kept_and_one_ended_that_day_is_not(settings):
    settings.WINBACK_HOLDOUT_PERCENT = 1
    assert holdout_for(send=Send.WINBACK, season="2027-01", as_of=MONDAY).percent == 1

    staff = UserFactory(is_staff=True)
    ended = end_holdout(send=Send.WINBACK, by=staff)
    assert ended.reason == ""
    assert holdout_for(send=Send.WINBACK, season="2027-01", as_of=MONDAY) is None  # ended today
    assert holdout_for(send=Send.WINBACK, season="2026-12", as_of=MONDAY - dt.timedelta(days=1)) is not None


@pytest.mark.django_db
def test_ending_a_holdout_ends_that_sends_only_as_of_the_day_it_was_ended(db):
    staff = UserFactory(is_staff=True)
    one, other = CampaignFactory(), CampaignFactory(season="summer", start_month=6, end_month=8)
    HoldoutEnd.objects.create(send=Send.SEASONAL, campaign=one, ended_by=staff,
                              ended_at=timezone.now() - dt.timedelta(days=10))

    assert holdout_ended_on(send=Send.SEASONAL, campaign_id=one.pk) == MONDAY - dt.timedelta(days=10)
    assert holdout_ended_on(send=Send.SEASONAL, campaign_id=other.pk) is None
    assert holdout_ended_on(send=Send.WINBACK) is None


@pytest.mark.django_db
def test_held_out_of_a_season_is_that_campaigns_season_held_out_rows_only():
    one, other = CampaignFactory(), CampaignFactory(season="summer", start_month=6, end_month=8)
    customer = CustomerFactory()

    def row(**fields):
        values = {"customer": customer, "send": Send.SEASONAL, "campaign": one, "season": "2026", "as_of": MONDAY,
                  "held_out": True, **fields}
        return Assignment.objects.create(**{**values, "customer": CustomerFactory()} if fields else values)

    kept = row()
    row(send=Send.WINBACK, campaign=None)
    row(campaign=other)
    row(season="2025")
    row(held_out=False)

    assert list(held_out_of_season(campaign_id=one.pk, season="2026")) == [kept]


@pytest.mark.django_db
def test_held_out_of_win_back_since_is_the_customers_own_held_out_rows_within_the_days():
    holdout = Holdout(send=Send.WINBACK, campaign_id=None, season="2027-01", as_of=MONDAY, percent=10)
    held, mailed, long_ago, nobody = CustomerFactory(), CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer, days_ago, held_out in ((held, 89, True), (mailed, 10, False), (long_ago, 90, True)):
        Assignment.objects.create(customer=customer, send=Send.WINBACK, season="x", held_out=held_out,
                                  as_of=MONDAY - dt.timedelta(days=days_ago))

    since = held_out_of_winback_since(holdout, MONDAY, 90)
    assert list(Customer.objects.filter(since).order_by("pk")) == [held]
    assert nobody not in Customer.objects.filter(since)

"""Which campaign runs in which month: ranges may wrap the year."""

import datetime as dt

import pytest

from campaigns.selectors import active_campaign, campaign_for_month
from tests.factories import CampaignFactory


@pytest.fixture
def four_seasons(db):
    return {
        "spring": CampaignFactory(season="spring", title="Spring", start_month=3, end_month=5),
        "summer": CampaignFactory(season="summer", title="Summer", start_month=6, end_month=8),
        "fall": CampaignFactory(season="fall", title="Fall", start_month=9, end_month=11),
        "winter": CampaignFactory(season="winter", title="Winter", start_month=12, end_month=2),
    }


@pytest.mark.parametrize(
    ("month", "season"),
    [
        (1, "winter"), (2, "winter"), (3, "spring"), (4, "spring"), (5, "spring"), (6, "summer"),
        (7, "summer"), (8, "summer"), (9, "fall"), (10, "fall"), (11, "fall"), (12, "winter"),
    ],
)
def test_each_month_finds_its_campaign_with_winter_wrapping_the_year(four_seasons, month, season):
    assert campaign_for_month(month) == four_seasons[season]
    assert four_seasons[season].covers(month)


@pytest.mark.parametrize("month", range(1, 13))
def test_only_a_wrapping_winter_campaign_exists(db, month):
    winter = CampaignFactory(start_month=12, end_month=2)
    assert campaign_for_month(month) == (winter if month in (12, 1, 2) else None)


def test_an_inactive_campaign_is_never_found(db):
    CampaignFactory(start_month=12, end_month=2, active=False)
    assert campaign_for_month(1) is None


def test_a_single_month_campaign(db):
    july = CampaignFactory(season="summer", start_month=7, end_month=7)
    assert [m for m in range(1, 13) if campaign_for_month(m) == july] == [7]


def test_active_campaign_uses_the_month_of_the_day(four_seasons):
    assert active_campaign(on=dt.date(2027, 1, 31)) == four_seasons["winter"]
    assert active_campaign(on=dt.date(2027, 3, 1)) == four_seasons["spring"]


@pytest.mark.parametrize(
    ("day", "season_year"),
    [(dt.date(2026, 12, 7), 2026), (dt.date(2027, 1, 4), 2026), (dt.date(2027, 2, 28), 2026), (dt.date(2027, 12, 6), 2027)],
)
def test_winter_season_year_is_the_year_it_began(db, day, season_year):
    assert CampaignFactory(start_month=12, end_month=2).season_year(day) == season_year


EVERY_RANGE = [(start, end) for start in range(1, 13) for end in range(1, 13)]


@pytest.mark.django_db
def test_python_the_query_and_the_constraint_agree_on_every_range():
    """The months a campaign covers are one rule (campaigns.models.month_in_range):
    Campaign.months in Python, covering_month() in a query, and the multirange the
    no-overlap constraint compares, for all 144 ranges and 12 months."""
    from django.db.models import BooleanField, Func, Value

    from campaigns.models import Campaign, _months_multirange
    from campaigns.selectors import covering_month

    campaigns = Campaign.objects.bulk_create(
        Campaign(season="winter", title=f"{s}-{e}", description="", discount_percent=10, start_month=s,
                 end_month=e, active=False)
        for s, e in EVERY_RANGE
    )
    expected = {campaign.pk: campaign.months for campaign in campaigns}
    assert expected[campaigns[EVERY_RANGE.index((12, 2))].pk] == {12, 1, 2}
    assert expected[campaigns[EVERY_RANGE.index((3, 5))].pk] == {3, 4, 5}
    assert expected[campaigns[EVERY_RANGE.index((6, 6))].pk] == {6}
    for month in range(1, 13):
        python = {pk for pk, months in expected.items() if month in months}
        query = set(Campaign.objects.filter(covering_month(month)).values_list("pk", flat=True))
        in_multirange = Func(
            _months_multirange(), Value(month), arg_joiner=" @> ", template="%(expressions)s",
            output_field=BooleanField(),
        )
        constraint = set(Campaign.objects.filter(in_multirange).values_list("pk", flat=True))
        assert python == query == constraint, month

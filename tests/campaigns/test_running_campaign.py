"""The running campaign that pages and the seasonal API show: read fresh on every
request in one compiled query, so a change made anywhere shows at once."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.selectors import running_campaign
from retention.models import ServiceType
from tests.factories import CampaignFactory, ServiceTypeFactory

MARCH = dt.date(2026, 3, 10)


def read(on=MARCH):
    with CaptureQueriesContext(connection) as queries:
        campaign, types = running_campaign(on=on)
    return campaign, types, len(queries)


def test_the_campaign_and_its_service_types_by_name_in_one_query(lawn, db):
    pool = ServiceTypeFactory(name="Aqua Pool", slug="aqua-pool")
    spring = CampaignFactory(season="spring", title="Spring", start_month=3, end_month=5, discount_percent=15)
    spring.service_types.set([lawn, pool])
    campaign, types, queries = read()
    assert queries == 1
    assert campaign == spring and (campaign.title, campaign.discount_percent, campaign.season) == ("Spring", 15, "spring")
    assert [(t.pk, t.name, t.slug) for t in types] == [(pool.pk, "Aqua Pool", "aqua-pool"), (lawn.pk, lawn.name, lawn.slug)]


def test_a_campaign_without_service_types_covers_none_by_name(db):
    CampaignFactory(season="spring", start_month=3, end_month=5).service_types.clear()
    campaign, types, _ = read()
    assert campaign is not None and types == []


@pytest.mark.parametrize("on", [dt.date(2026, 2, 28), dt.date(2026, 6, 1)])
def test_outside_its_months_or_with_none_running_nothing_runs(on, db):
    CampaignFactory(season="spring", start_month=3, end_month=5)
    assert read(on) == (None, [], 1)


def test_a_wrapping_campaign_runs_in_january(db):
    winter = CampaignFactory(season="winter", start_month=12, end_month=2)
    assert read(dt.date(2027, 1, 15))[0] == winter


def test_changes_made_outside_admin_show_at_once(lawn, db):
    spring = CampaignFactory(season="spring", title="Spring", start_month=3, end_month=5)
    assert read()[0].title == "Spring"
    type(spring).objects.filter(pk=spring.pk).update(title="Spring Refresh")
    assert read()[0].title == "Spring Refresh"
    spring.service_types.set([lawn])
    assert read()[1] == [lawn]
    type(spring).objects.filter(pk=spring.pk).update(active=False)
    assert read() == (None, [], 1)
    assert ServiceType.objects.filter(pk=lawn.pk).exists()

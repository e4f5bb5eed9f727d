"""Pages keep the running campaign for the business day, at most
CAMPAIGN_CACHE_SECONDS, and forget it when staff save a campaign in admin."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.selectors import forget_running_campaign, running_campaign
from tests.factories import CampaignFactory, UserFactory

MARCH = dt.date(2026, 3, 10)


@pytest.fixture
def kept(settings):
    settings.CAMPAIGN_CACHE_SECONDS = 60
    forget_running_campaign()
    yield
    forget_running_campaign()


def read(on=MARCH):
    with CaptureQueriesContext(connection) as queries:
        campaign, types = running_campaign(on=on)
    return campaign, types, len(queries)


def test_read_once_a_day_then_kept(kept, lawn):
    spring = CampaignFactory(season="spring", title="Spring", start_month=3, end_month=5)
    spring.service_types.set([lawn])
    campaign, types, queries = read()
    assert (campaign, types, queries) == (spring, [lawn], 2)
    assert read() == (spring, [lawn], 0)
    # Another business day reads again.
    assert read(MARCH + dt.timedelta(days=1))[2] == 2


def test_no_campaign_is_kept_too(kept, db):
    assert read() == (None, [], 1)
    assert read() == (None, [], 0)


def test_not_kept_past_its_seconds(kept, settings, lawn, monkeypatch):
    CampaignFactory(season="spring", start_month=3, end_month=5)
    read()
    import campaigns.selectors as selectors

    later = selectors.time.monotonic() + 61
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    assert read()[2] == 2


def test_saving_in_admin_forgets_it(kept, client, lawn, django_capture_on_commit_callbacks):
    spring = CampaignFactory(season="spring", title="Spring", start_month=3, end_month=5)
    assert read()[0].title == "Spring"
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/campaigns/campaign/{spring.pk}/change/",
            {
                "season": "spring", "title": "Spring Refresh", "description": "Fresh lawns.",
                "discount_percent": "15", "start_month": "3", "end_month": "5",
                "promo_valid_days": "30", "active": "on", "service_types": [lawn.pk],
            },
        )
    assert response.status_code == 302
    campaign, types, queries = read()
    assert (campaign.title, types, queries) == ("Spring Refresh", [lawn], 2)


def test_settings_zero_reads_every_time(settings, db):
    settings.CAMPAIGN_CACHE_SECONDS = 0
    forget_running_campaign()
    assert read()[2] == 1
    assert read()[2] == 1

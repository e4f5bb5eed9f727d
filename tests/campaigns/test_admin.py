"""Staff edit campaigns in admin; two active campaigns never share a month."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from campaigns.models import Campaign
from tests.factories import CampaignFactory, UserFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


def campaign_form(**overrides):
    data = {
        "season": "spring",
        "title": "Spring Refresh",
        "description": "Fresh lawns.",
        "discount_percent": "15",
        "start_month": "3",
        "end_month": "5",
        "promo_valid_days": "30",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_staff_add_a_campaign_in_admin(staff_client, lawn):
    response = staff_client.post(
        "/admin/campaigns/campaign/add/", campaign_form(service_types=[lawn.pk])
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert (campaign.start_month, campaign.end_month, campaign.discount_percent) == (3, 5, 15)
    assert list(campaign.service_types.all()) == [lawn]


def test_admin_refuses_an_overlap_and_names_the_other_campaign(staff_client):
    CampaignFactory(season="winter", title="Winter Comfort", start_month=12, end_month=2)
    response = staff_client.post(
        "/admin/campaigns/campaign/add/",
        campaign_form(season="spring", title="Early Spring", start_month="2", end_month="4"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "“Winter Comfort”" in page
    assert "already active in February" in page
    assert Campaign.objects.count() == 1


def test_admin_refuses_a_wrapping_range_over_another_wrapping_range(staff_client):
    CampaignFactory(title="Winter Comfort", start_month=12, end_month=2)
    response = staff_client.post(
        "/admin/campaigns/campaign/add/",
        campaign_form(season="fall", title="Late Fall", start_month="11", end_month="1"),
    )
    assert "“Winter Comfort”" in response.content.decode()
    assert "December, January" in response.content.decode()
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "end", "shared"),
    [
        ("1", "3", "January, February"),  # starting in the first month
        ("10", "12", "December"),  # ending in the last
        ("12", "12", "December"),  # starting in the last
    ],
)
def test_admin_refuses_an_overlap_at_either_end_of_the_year(staff_client, start, end, shared):
    CampaignFactory(title="Winter Comfort", start_month=12, end_month=2)
    response = staff_client.post(
        "/admin/campaigns/campaign/add/",
        campaign_form(season="fall", title="Other", start_month=start, end_month=end),
    )
    page = response.content.decode()
    assert "“Winter Comfort”" in page
    assert f"is already active in {shared}." in page
    assert Campaign.objects.count() == 1


def test_the_shared_months_are_named_in_the_other_campaigns_season_order(staff_client):
    CampaignFactory(title="Long Winter", start_month=11, end_month=2)
    response = staff_client.post(
        "/admin/campaigns/campaign/add/",
        campaign_form(season="winter", title="Holidays", start_month="12", end_month="1"),
    )
    assert "is already active in December, January." in response.content.decode()


def test_the_overlap_error_says_which_campaign_when_and_what_to_do(db):
    CampaignFactory(season="winter", title="Winter Comfort", start_month=12, end_month=2)
    with pytest.raises(ValidationError) as refused:
        CampaignFactory.build(season="spring", start_month=2, end_month=4).clean()
    assert refused.value.messages == [
        "“Winter Comfort” (winter, December to February) is already active in February. "
        "Two active campaigns cannot share a month: change the months or deactivate one of them."
    ]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (None, 2, "start_month"),
        (1, None, "end_month"),
        (13, 2, "start_month"),
        (11, 13, "end_month"),
    ],
)
def test_a_missing_or_impossible_month_is_the_fields_error_alone(db, start, end, field):
    """clean() compares months only once both are real months: otherwise the field's own
    error says what is wrong, with no overlap message and no crash."""
    CampaignFactory(title="Winter Comfort", start_month=12, end_month=2)
    campaign = Campaign(
        season="fall", title="Bad", description="-", discount_percent=10,
        start_month=start, end_month=end, promo_valid_days=30, active=True,
    )
    with pytest.raises(ValidationError) as refused:
        campaign.full_clean()
    assert field in refused.value.message_dict
    assert NON_FIELD_ERRORS not in refused.value.message_dict


def test_admin_allows_an_overlapping_campaign_while_it_is_inactive(staff_client):
    CampaignFactory(title="Winter Comfort", start_month=12, end_month=2)
    form = campaign_form(title="Draft", start_month="1", end_month="3")
    del form["active"]
    response = staff_client.post("/admin/campaigns/campaign/add/", form)
    assert response.status_code == 302
    assert Campaign.objects.filter(active=False).count() == 1


def test_admin_allows_editing_a_campaign_without_clashing_with_itself(staff_client):
    winter = CampaignFactory(title="Winter Comfort", start_month=12, end_month=2)
    response = staff_client.post(
        f"/admin/campaigns/campaign/{winter.pk}/change/",
        campaign_form(season="winter", title="Winter Comfort", start_month="12", end_month="3"),
    )
    assert response.status_code == 302
    winter.refresh_from_db()
    assert winter.end_month == 3


def test_the_database_refuses_two_active_campaigns_sharing_a_month(db):
    CampaignFactory(start_month=12, end_month=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(season="spring", start_month=2, end_month=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(season="fall", start_month=11, end_month=12)
    CampaignFactory(season="spring", start_month=3, end_month=5)  # adjacent is fine
    CampaignFactory(season="fall", start_month=10, end_month=11, active=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(active=False).update(active=True, start_month=1, end_month=1)


@pytest.mark.parametrize("discount", [0, 101])
def test_the_database_refuses_a_discount_outside_1_to_100(db, discount):
    with pytest.raises(IntegrityError):
        CampaignFactory(discount_percent=discount)


def test_the_campaign_list_shows_each_range(staff_client):
    CampaignFactory(title="Winter Comfort", start_month=12, end_month=2)
    page = staff_client.get("/admin/campaigns/campaign/").content.decode()
    assert "Winter Comfort" in page and "December to February" in page
    assert staff_client.get("/admin/campaigns/campaignsend/").status_code == 200
    assert staff_client.get("/admin/campaigns/promocodeattempt/").status_code == 200

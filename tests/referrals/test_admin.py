"""Referrals in admin: filter by status, search by either party, blocked ones with
their reason, and the unblock and cancel actions (the same services)."""

import pytest
from django.test import Client

from loyalty.models import PointsEntry
from referrals.models import Referral
from tests.factories import JobFactory, UserFactory

from .conftest import complete, post_sign_up

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/referrals/referral/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def two_referrals(code, friend):
    post_sign_up(Client(), code, name="Ada Advocate", email="twin@example.org")
    return Referral.objects.get(friend=friend), Referral.objects.get(friend__user__email="twin@example.org")


def test_blocked_referrals_show_their_reason_and_filter_by_status(staff_client, two_referrals):
    page = staff_client.get(CHANGELIST, {"status__exact": "blocked"}).content.decode()
    assert "twin@example.org" in page and "fred@example.org" not in page
    assert "Same name as the advocate" in page


@pytest.mark.parametrize("term, found, hidden", [("twin@", "twin@example.org", "fred@example.org"), ("Fred", "fred@example.org", "twin@example.org")])
def test_search_by_friend(staff_client, two_referrals, term, found, hidden):
    page = staff_client.get(CHANGELIST, {"q": term}).content.decode()
    assert found in page and hidden not in page


def test_search_by_advocate(staff_client, two_referrals, customer):
    page = staff_client.get(CHANGELIST, {"q": "ada.advocate"}).content.decode()
    assert "twin@example.org" in page and "fred@example.org" in page
    assert "result" in staff_client.get(CHANGELIST, {"q": "nobody-such"}).content.decode()


def test_the_unblock_action_rewards_what_was_earned(staff_client, two_referrals, advocate, provider, lawn):
    _, blocked = two_referrals
    complete(JobFactory(customer=blocked.friend, provider=provider, service_type=lawn))
    response = staff_client.post(
        CHANGELIST, {"action": "unblock", "_selected_action": [str(blocked.pk)]}, follow=True
    )
    assert "1 referral(s) unblocked." in response.content.decode()
    blocked.refresh_from_db()
    assert blocked.status == "rewarded"
    assert PointsEntry.objects.filter(account_id=advocate.pk, type="referral").count() == 1


def test_the_cancel_action(staff_client, two_referrals):
    _, blocked = two_referrals
    staff_client.post(CHANGELIST, {"action": "cancel", "_selected_action": [str(blocked.pk)]})
    blocked.refresh_from_db()
    assert blocked.status == "cancelled"


def test_a_referral_page_opens_read_only(staff_client, two_referrals):
    _, blocked = two_referrals
    page = staff_client.get(f"{CHANGELIST}{blocked.pk}/change/").content.decode()
    assert "Same name as the advocate" in page and "Both are named Ada Advocate" in page

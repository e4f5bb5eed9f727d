"""Staff in admin: rewards are editable, points change only by a reasoned adjustment
recorded with the staff member, and the ledger is read-only."""

import pytest
from django.urls import reverse

from loyalty.models import LoyaltyAccount, PointsEntry, Reward
from tests.factories import RewardFactory

from .conftest import assert_ledger_consistent

ADJUST = "/admin/loyalty/loyaltyaccount/adjust/"


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def test_staff_grant_points_with_a_reason_recorded_with_them(admin_client, staff, customer):
    response = admin_client.post(ADJUST, {"customer_email": customer.email, "points": "75", "reason": "Late arrival, sorry"})
    assert response.status_code == 302
    entry = PointsEntry.objects.get()
    assert (entry.type, entry.points, entry.description, entry.created_by) == ("adjustment", 75, "Late arrival, sorry", staff)
    account = assert_ledger_consistent(customer)
    assert (account.points, account.lifetime_points) == (75, 0)  # adjustments never change lifetime points
    page = admin_client.get(response["Location"])
    assert "Late arrival, sorry" in page.content.decode()


def test_staff_deduct_points(admin_client, customer, grant):
    grant(customer, 100)
    admin_client.post(ADJUST, {"customer_email": customer.email, "points": "-40", "reason": "Duplicate grant"})
    assert assert_ledger_consistent(customer).points == 60


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"points": "10", "reason": "   "}, "This field is required"),
        ({"points": "10", "reason": ""}, "This field is required"),
        ({"points": "0", "reason": "why"}, "non-zero"),
        ({"points": "-500", "reason": "too much"}, "Cannot deduct 500 points"),
        ({"points": "10", "reason": "who?", "customer_email": "nobody@example.com"}, "No customer has that email"),
    ],
)
def test_bad_adjustments_are_refused_and_change_nothing(admin_client, customer, grant, data, message):
    grant(customer, 100)
    before = list(PointsEntry.objects.values_list("pk", flat=True))
    response = admin_client.post(ADJUST, {"customer_email": customer.email, **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(PointsEntry.objects.values_list("pk", flat=True)) == before
    assert LoyaltyAccount.objects.get(pk=customer.pk).points == 100


def test_non_staff_cannot_adjust(client, customer):
    client.force_login(customer.user)
    response = client.post(ADJUST, {"customer_email": customer.email, "points": "10", "reason": "me"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert PointsEntry.objects.count() == 0


def test_ledger_entries_and_accounts_are_read_only_in_admin(admin_client, customer, grant):
    entry = grant(customer, 10)
    assert admin_client.get(reverse("admin:loyalty_pointsentry_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:loyalty_pointsentry_add")).status_code == 403
    assert admin_client.get(reverse("admin:loyalty_pointsentry_delete", args=[entry.pk])).status_code == 403
    change = admin_client.post(reverse("admin:loyalty_pointsentry_change", args=[entry.pk]), {"points": "999"})
    assert change.status_code == 403
    assert admin_client.post(reverse("admin:loyalty_loyaltyaccount_change", args=[customer.pk]), {"points": "999"}).status_code == 403
    entry.refresh_from_db()
    assert entry.points == 10
    account_page = admin_client.get(reverse("admin:loyalty_loyaltyaccount_change", args=[customer.pk])).content.decode()
    assert "Adjust points" in account_page and "Test grant" in account_page


def test_staff_manage_rewards(admin_client, lawn):
    response = admin_client.post(
        reverse("admin:loyalty_reward_add"),
        {
            "name": "Free lawn visit", "description": "On us.", "points_cost": "400", "reward_type": "free_service",
            "reward_value": "65.00", "service_type": str(lawn.pk), "voucher_valid_days": "90", "active": "on",
        },
    )
    assert response.status_code == 302
    reward = Reward.objects.get()
    assert reward.points_cost == 400 and reward.service_type == lawn
    assert admin_client.get(reverse("admin:loyalty_reward_changelist")).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"points_cost": "0"}, "A reward must cost at least 1 point."),
        ({"reward_type": "percent_off", "reward_value": "150"}, "A percent off cannot be more than 100."),
        ({"reward_type": "free_service"}, "Pick the service this free-service reward covers."),
        ({"reward_value": "0"}, "The value must be more than zero."),
    ],
)
def test_rewards_that_make_no_sense_are_refused_with_a_reason(admin_client, data, message):
    response = admin_client.post(
        reverse("admin:loyalty_reward_add"),
        {"name": "Odd", "description": "x", "points_cost": "100", "reward_type": "amount_off",
         "reward_value": "5", "voucher_valid_days": "90", **data},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Reward.objects.exists()


def test_admin_lists_load(admin_client, customer, grant):
    grant(customer, 10)
    RewardFactory()
    for name in ["loyaltyaccount", "redemption", "tierupgrade"]:
        assert admin_client.get(reverse(f"admin:loyalty_{name}_changelist")).status_code == 200
    assert admin_client.get(ADJUST + f"?email={customer.email}").status_code == 200

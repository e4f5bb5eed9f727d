"""The amount paid at completion: one rule (actions.jobs.checked_amount_paid) that the
API, the provider's form, admin and complete_job all apply. A provider may record at
most MAX_AMOUNT_FACTOR x the job's list price; staff may record any amount in admin,
and who completed the job is recorded."""

from decimal import Decimal

import pytest

from actions.jobs import AmountError, checked_amount_paid, complete_job
from loyalty.models import LoyaltyAccount
from retention.models import Job
from tests.factories import JobFactory, UserFactory


@pytest.fixture
def job(customer, provider, lawn):  # list price $65.00
    return JobFactory(customer=customer, provider=provider, service_type=lawn)


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0", Decimal("0.00")), ("65", Decimal("65.00")), ("129.9", Decimal("129.90")), ("130.00", Decimal("130.00")),
     (Decimal("99.5"), Decimal("99.50")), (None, None)],
)
def test_amounts_a_provider_may_record(job, amount, expected):
    assert checked_amount_paid(job=job, amount=amount) == expected


@pytest.mark.parametrize(
    "amount",
    ["", " 10", "10 ", "-1", "+1", "1e2", "1E+400", "NaN", "Infinity", "1.005", "١٢", "0x10", "1_000", "123456789",
     Decimal("1E+30"), Decimal("-0.01"), Decimal("NaN")],
)
def test_anything_but_dollars_and_cents_that_fit_is_invalid(job, staff, amount):
    for who in (None, staff):
        with pytest.raises(AmountError) as caught:
            checked_amount_paid(job=job, amount=amount, completed_by=who)
        assert caught.value.code == "invalid_request"


def test_more_than_the_factor_is_out_of_range_for_a_provider(job, provider, settings):
    with pytest.raises(AmountError) as caught:
        checked_amount_paid(job=job, amount="130.01", completed_by=provider.user)
    assert caught.value.code == "amount_out_of_range"
    settings.MAX_AMOUNT_FACTOR = Decimal("3")  # a setting
    assert checked_amount_paid(job=job, amount="195.00", completed_by=provider.user) == Decimal("195.00")


def test_complete_job_applies_the_rule_and_changes_nothing_when_refused(job, provider):
    with pytest.raises(AmountError):
        complete_job(job=job, amount="130.01", completed_by=provider.user)
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED and job.amount_paid == Decimal("65.00") and job.completed_by is None
    assert not LoyaltyAccount.objects.exists()


def test_staff_may_record_any_amount_and_are_recorded(job, staff):
    completion = complete_job(job=job, amount="99999999.99", completed_by=staff)
    job.refresh_from_db()
    assert job.amount_paid == Decimal("99999999.99") and job.completed_by == staff
    assert completion.points_awarded == 99_999_999


def test_points_are_64_bit(customer, provider, lawn, staff):
    """Issue 12: the 19th completion of 99,999,999.99 overflowed 32-bit balances."""
    jobs = [JobFactory(customer=customer, provider=provider, service_type=lawn) for _ in range(20)]
    for each in jobs:
        complete_job(job=each, amount="99999999.99", completed_by=staff)
    account = LoyaltyAccount.objects.get(pk=customer.pk)
    assert account.points > 2**31 and account.points == account.lifetime_points
    assert account.tier == "platinum"


def test_the_provider_portal_form_applies_the_rule(provider_client, job):
    response = provider_client.post(f"/provider-portal/jobs/{job.id}/complete/", {"amount": "500.00"}, follow=True)
    assert "at most $130.00" in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED
    provider_client.post(f"/provider-portal/jobs/{job.id}/complete/", {"amount": "130.00"})
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.amount_paid == Decimal("130.00")
    assert job.completed_by == job.provider.user


def test_staff_complete_any_amount_in_admin(client, job, staff):
    client.force_login(staff)
    url = f"/admin/retention/job/{job.id}/complete/"
    page = client.get(url)
    assert page.status_code == 200 and "List price $65.00" in page.content.decode()
    response = client.post(url, {"amount": "1e5"})
    assert "dollars and cents" in response.content.decode()
    response = client.post(url, {"amount": "5000.00"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.amount_paid == Decimal("5000.00") and job.completed_by == staff
    # Once completed, admin no longer lets anyone change what was paid.
    change = client.get(f"/admin/retention/job/{job.id}/change/").content.decode()
    assert 'name="amount_paid"' not in change


def test_non_staff_cannot_open_the_admin_complete_page(provider_client, job):
    response = provider_client.get(f"/admin/retention/job/{job.id}/complete/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]

"""Fixtures for the loyalty tests: a staff member and a way to give points."""

from decimal import Decimal

import pytest

from actions.jobs import complete_job
from loyalty.models import LoyaltyAccount, PointsEntry
from loyalty.services import adjust_points
from loyalty.tiers import tier_for
from tests.factories import JobFactory, UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", name="Sam Staff", is_staff=True, is_superuser=True)


@pytest.fixture
def grant(staff):
    """grant(customer, points): a staff adjustment, so balance only (no lifetime points)."""

    def grant(customer, points):
        return adjust_points(customer=customer, points=points, reason="Test grant", staff=staff)

    return grant


@pytest.fixture
def complete(provider, lawn):
    """complete(customer, "149.00"): books a lawn job at that price and completes it
    paying that amount (a provider may record at most MAX_AMOUNT_FACTOR x the price)."""

    def complete(customer, amount):
        job = JobFactory(customer=customer, provider=provider, service_type=lawn, price=Decimal(amount))
        return complete_job(job=job, amount=Decimal(amount))

    return complete


def assert_ledger_consistent(customer):
    """The account equals what its ledger sums to, and its tier follows lifetime points."""
    account = LoyaltyAccount.objects.filter(pk=customer.pk).first()
    if account is None:  # nothing earned or granted yet
        assert not PointsEntry.objects.filter(account_id=customer.pk).exists()
        return None
    entries = PointsEntry.objects.filter(account=account)
    assert account.points >= 0
    assert account.points == sum(e.points for e in entries)
    assert account.lifetime_points == sum(e.points for e in entries if e.type in PointsEntry.LIFETIME_TYPES)
    assert account.tier == tier_for(account.lifetime_points).key
    return account

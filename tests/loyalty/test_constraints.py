"""What the database itself refuses, whatever the Python code does."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from loyalty.models import LoyaltyAccount, PointsEntry


def test_a_job_cannot_earn_twice_even_bypassing_the_services(customer, complete):
    job = complete(customer, "80.00").job
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            account_id=customer.pk, job=job, type=PointsEntry.Type.EARN, points=80, description="again"
        )


def test_the_balance_can_never_go_negative(customer, grant):
    grant(customer, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        LoyaltyAccount.objects.filter(pk=customer.pk).update(points=F("points") - 11)
    assert LoyaltyAccount.objects.get(pk=customer.pk).points == 10


def test_an_adjustment_needs_a_staff_member(customer, grant):
    grant(customer, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            account_id=customer.pk, type=PointsEntry.Type.ADJUSTMENT, points=5, description="who?"
        )

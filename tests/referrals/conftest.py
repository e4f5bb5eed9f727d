"""Fixtures for referrals: an advocate with a code, a friend who signed up through it,
and helpers to sign up through the public page and to complete the friend's jobs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from actions.jobs import complete_job
from referrals.services import referral_code_for
from tests.factories import CustomerFactory, JobFactory

PASSWORD = "a-long-Unusual-passphrase-42"


@pytest.fixture
def advocate(db):
    return CustomerFactory(user__email="ada.advocate@example.com", user__name="Ada Advocate")


@pytest.fixture
def code(advocate):
    return referral_code_for(customer=advocate).code


def post_sign_up(client: Client, code: str, *, name="Fred Friend", email="fred@example.org", password=PASSWORD, ip="198.51.100.1"):
    return client.post(
        f"/r/{code}", {"name": name, "email": email, "password": password}, REMOTE_ADDR=ip
    )


@pytest.fixture
def sign_up_friend(code):
    """sign_up_friend(name=..., email=..., ip=...): signs up through the advocate's link
    from a fresh browser; returns the response."""

    def sign_up(**fields):
        return post_sign_up(Client(), code, **fields)

    return sign_up


@pytest.fixture
def friend(sign_up_friend):
    from retention.models import Customer

    sign_up_friend()
    return Customer.objects.get(user__email="fred@example.org")


@pytest.fixture
def friend_job(friend, provider, lawn):
    """friend_job(): a scheduled job of the friend's, booked for tomorrow."""

    def make():
        return JobFactory(
            customer=friend, provider=provider, service_type=lawn, scheduled_for=dt.date.today() + dt.timedelta(days=1)
        )

    return make


def complete(job, amount="65.00"):
    return complete_job(job=job, amount=Decimal(amount))

"""Races on PostgreSQL with real threads and their own connections: completion sent
from many places at once, redemptions racing for the same points, and account
creation racing itself."""

import json
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.test import Client

from actions.jobs import complete_job
from loyalty.models import LoyaltyAccount, PointsEntry, Redemption
from loyalty.services import adjust_points, locked_account
from tests.factories import CustomerFactory, JobFactory, ProviderFactory, RewardFactory, UserFactory

from .conftest import assert_ledger_consistent

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(count, work):
    """Runs work(i) in `count` threads released together; returns (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return results, errors


def test_completion_from_10_threads_earns_once(service_types):
    lawn = service_types["lawn-care"]
    customer = CustomerFactory()
    job = JobFactory(
        customer=customer, provider=ProviderFactory(service_types=[lawn]), service_type=lawn, price=Decimal("250.00")
    )

    results, errors = run_at_once(10, lambda i: complete_job(job=job, amount=Decimal("250.00")))

    assert errors == []
    assert sum(r.completed_now for r in results) == 1
    assert {r.points_awarded for r in results} == {250}
    assert PointsEntry.objects.filter(job=job, type=PointsEntry.Type.EARN).count() == 1
    account = assert_ledger_consistent(customer)
    assert account.points == 250


def test_first_jobs_of_one_customer_completing_at_once_create_one_account(service_types):
    """Two different jobs, so no shared job lock: the account insert itself must not race."""
    lawn = service_types["lawn-care"]
    customer = CustomerFactory()
    provider = ProviderFactory(service_types=[lawn])
    jobs = [JobFactory(customer=customer, provider=provider, service_type=lawn) for _ in range(6)]

    results, errors = run_at_once(6, lambda i: complete_job(job=jobs[i], amount=Decimal("10.00")))

    assert errors == []
    assert LoyaltyAccount.objects.filter(pk=customer.pk).count() == 1
    assert assert_ledger_consistent(customer).points == 60


def test_locked_account_under_concurrency_creates_one_row():
    customer = CustomerFactory()

    def create(i):
        with transaction.atomic():
            return locked_account(customer=customer).pk

    results, errors = run_at_once(10, create)
    assert errors == []
    assert set(results) == {customer.pk}
    assert LoyaltyAccount.objects.filter(pk=customer.pk).count() == 1


def test_30_redemptions_racing_for_3_rewards_worth_of_points():
    customer = CustomerFactory()
    staff = UserFactory(is_staff=True)
    reward = RewardFactory(points_cost=100)
    adjust_points(customer=customer, points=300, reason="Race budget", staff=staff)
    body = json.dumps({"rewardId": str(reward.pk)})

    def redeem(i):
        client = Client()
        client.force_login(customer.user)
        response = client.post("/api/customer/loyalty/redeem", body, content_type="application/json")
        return response.status_code, response.json()

    results, errors = run_at_once(30, redeem)

    assert errors == []
    succeeded = [body for status, body in results if status == 200]
    refused = [body for status, body in results if status != 200]
    assert len(succeeded) == 3
    assert len(refused) == 27
    assert all(body["error"]["code"] == "insufficient_points" for body in refused)
    assert sorted(body["points"] for body in succeeded) == [0, 100, 200]
    assert len({body["redemption"]["voucherCode"] for body in succeeded}) == 3
    assert Redemption.objects.count() == 3
    account = assert_ledger_consistent(customer)
    assert account.points == 0

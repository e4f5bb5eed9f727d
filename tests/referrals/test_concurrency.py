"""Completion of the friend's first job sent from 10 threads at once, and two of the
friend's jobs completed at once: one reward. Real threads, own connections."""

import pytest

from loyalty.models import PointsEntry
from referrals.models import ReferralReward
from tests.loyalty.conftest import assert_ledger_consistent
from tests.loyalty.test_concurrency import run_at_once

from .conftest import complete

pytestmark = pytest.mark.django_db(transaction=True)


def test_completion_from_10_threads_rewards_once(advocate, friend, friend_job):
    job = friend_job()

    results, errors = run_at_once(10, lambda i: complete(job))

    assert errors == []
    assert sum(r.completed_now for r in results) == 1
    assert ReferralReward.objects.count() == 1
    assert list(PointsEntry.objects.filter(type="referral").values_list("points", flat=True)) == [500]
    assert assert_ledger_consistent(advocate).points == 500


def test_two_first_jobs_completing_at_once_reward_once(advocate, friend, friend_job):
    jobs = [friend_job() for _ in range(4)]

    results, errors = run_at_once(4, lambda i: complete(jobs[i]))

    assert errors == []
    assert all(r.completed_now for r in results)
    assert ReferralReward.objects.count() == 1
    assert assert_ledger_consistent(advocate).points == 500

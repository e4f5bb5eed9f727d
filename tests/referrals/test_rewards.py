"""The advocate's reward: the friend's first completed job (not the booking) gives
REFERRAL_ADVOCATE_POINTS as a `referral` ledger line (balance only), a notification
and an email, once per friend and at most REFERRAL_MAX_PER_YEAR a year; cancelling
that job reverses it."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from actions.jobs import book_job, cancel_job
from loyalty.models import LoyaltyAccount, PointsEntry
from outbox.models import OutboundEmail
from referrals.models import Referral, ReferralReward
from referrals.services import REWARDS_URL
from retention.models import Notification
from tests.factories import JobFactory
from tests.loyalty.conftest import assert_ledger_consistent

from .conftest import complete

pytestmark = pytest.mark.django_db


def referral_lines(advocate):
    return list(PointsEntry.objects.filter(account_id=advocate.pk, type="referral").values_list("points", flat=True))


def test_the_friends_first_completed_job_rewards_the_advocate_once(advocate, friend, friend_job, django_assert_num_queries):
    scheduled = friend_job()
    with django_assert_num_queries(30):  # the referral is read with both people, in one query
        job = complete(scheduled).job

    referral = Referral.objects.get(friend=friend)
    assert referral.status == Referral.Status.REWARDED and referral.first_job_at == job.completed_at
    reward = ReferralReward.objects.get(referral=referral)
    assert (reward.job, reward.points, reward.advocate) == (job, 500, advocate)
    assert referral_lines(advocate) == [500]
    assert reward.entry.description == "Referral: Fred completed their first service"
    account = assert_ledger_consistent(advocate)
    assert (account.points, account.lifetime_points, account.tier) == (500, 0, "bronze")  # balance only
    notice = Notification.objects.get(customer=advocate, kind="referral")
    assert "500 points" in notice.title and "Fred" in notice.title and notice.action_url == REWARDS_URL
    email = OutboundEmail.objects.get(template="referral_reward")
    assert email.to_email == "ada.advocate@example.com" and "500 points" in email.text_body
    assert "Fred" in email.text_body
    # The friend earned their own job points as usual.
    assert LoyaltyAccount.objects.get(pk=friend.pk).points == 65


def test_completion_sent_twice_rewards_once(advocate, friend, friend_job):
    job = friend_job()
    complete(job)
    again = complete(job)
    assert not again.completed_now
    assert referral_lines(advocate) == [500]
    assert ReferralReward.objects.count() == 1
    assert OutboundEmail.objects.filter(template="referral_reward").count() == 1


def test_no_reward_on_booking(advocate, friend, lawn, provider):
    book_job(customer=friend, service_type=lawn, scheduled_for=timezone.localdate())
    assert referral_lines(advocate) == []
    assert Referral.objects.get(friend=friend).status == Referral.Status.JOINED


def test_no_reward_on_a_second_job(advocate, friend, friend_job):
    complete(friend_job())
    complete(friend_job())
    assert referral_lines(advocate) == [500]
    assert Notification.objects.filter(customer=advocate, kind="referral").count() == 1


def test_a_customer_who_was_not_referred_rewards_nobody(advocate, customer, provider, lawn):
    complete(JobFactory(customer=customer, provider=provider, service_type=lawn))
    assert not PointsEntry.objects.filter(type="referral").exists()


def test_cancelling_the_rewarded_job_reverses_the_reward(advocate, friend, friend_job, django_assert_num_queries):
    job = friend_job()
    complete(job)
    with django_assert_num_queries(21):  # the referral is read with both people, in one query
        cancel_job(job=job)

    assert sorted(referral_lines(advocate)) == [-500, 500]
    reward = ReferralReward.objects.get(job=job)
    assert reward.reversed_at is not None and reward.reversal_entry.points == -500
    account = assert_ledger_consistent(advocate)
    assert (account.points, account.lifetime_points) == (0, 0)
    assert Referral.objects.get(friend=friend).status == Referral.Status.JOINED
    cancel_job(job=job)  # again: nothing more
    assert len(referral_lines(advocate)) == 2


def test_after_a_reversal_the_friends_next_completed_job_earns_it(advocate, friend, friend_job):
    first = friend_job()
    complete(first)
    cancel_job(job=first)
    second = friend_job()
    complete(second)
    assert sum(referral_lines(advocate)) == 500
    assert ReferralReward.objects.get(reversed_at__isnull=True).job == second


def test_a_reversal_never_takes_the_balance_below_zero(advocate, friend, friend_job):
    from loyalty.services import redeem_reward
    from tests.factories import RewardFactory

    job = friend_job()
    complete(job)
    redeem_reward(customer=advocate, reward_id=RewardFactory(points_cost=400).pk)
    cancel_job(job=job)
    account = assert_ledger_consistent(advocate)
    assert account.points == 0
    assert ReferralReward.objects.get(job=job).reversal_entry.points == -100


def test_the_yearly_cap(settings, advocate, code, provider, lawn):
    from tests.referrals.conftest import post_sign_up
    from django.test import Client

    settings.REFERRAL_MAX_PER_YEAR = 2
    friends = []
    for i in range(3):
        post_sign_up(Client(), code, name=f"Friend Number{i}", email=f"friend{i}@example.org", ip=f"198.51.100.{i + 1}")
        friends.append(Referral.objects.get(friend__user__email=f"friend{i}@example.org").friend)
    for friend in friends:
        complete(JobFactory(customer=friend, provider=provider, service_type=lawn))

    assert referral_lines(advocate) == [500, 500]
    capped = Referral.objects.get(friend=friends[2])
    assert capped.status == Referral.Status.BLOCKED and capped.block_reason == "yearly_cap"
    assert capped.blocked_at is not None


def test_the_database_allows_one_referral_per_friend_and_one_standing_reward(advocate, friend, friend_job, customer):
    job = friend_job()
    complete(job)
    referral = Referral.objects.get(friend=friend)
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.create(advocate=customer, friend=friend)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralReward.objects.create(
            referral=referral, advocate=advocate, job=job, points=500,
            entry=PointsEntry.objects.create(account_id=advocate.pk, points=500, type="referral", description="x"),
        )

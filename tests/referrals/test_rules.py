"""Referral rules one by one, where the sign-up and reward tests do not pin them: the
mailbox rule's +tags, which sign-ups from an address count at sign-up and at reward
time, the self-referral message, and what a reversal does when the friend has other
completed jobs."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from actions.jobs import cancel_job
from referrals import guards
from referrals.models import Referral, ReferralReward
from retention.models import Job
from tests.factories import CustomerFactory, JobFactory

from .conftest import complete

IP = "203.0.113.7"


def test_a_mailbox_ignores_every_plus_tag():
    assert guards.canonical_email("Jane.Doe+x+y@Example.com") == "janedoe@example.com"


@pytest.fixture
def signed_up(advocate):
    """signed_up(at, ip=IP): a referral sign-up from `ip` at `at`."""

    def make(at, ip=IP):
        return Referral.objects.create(advocate=advocate, friend=CustomerFactory(), signup_ip=ip, joined_at=at)

    return make


@pytest.mark.django_db
def test_sign_ups_from_an_address_before_or_around_a_moment(signed_up):
    now = timezone.now()
    for hours in (-30, 20, 40):
        signed_up(now + dt.timedelta(hours=hours))
    signed_up(now, ip="203.0.113.8")  # another address

    assert guards.signups_from_ip(IP, around=now, before_only=True) == 1
    assert guards.signups_from_ip(IP, around=now, before_only=False) == 3


@pytest.mark.django_db
def test_at_sign_up_only_earlier_sign_ups_count(advocate, signed_up):
    now = timezone.now()
    for minutes in range(1, guards.IP_LIMIT):  # IP_LIMIT - 1 after `now`, none before
        signed_up(now + dt.timedelta(minutes=minutes))

    block = guards.check_at_signup(
        advocate=advocate, friend_name="Fred Friend", friend_email="fred@example.org", ip=IP, now=now, by_advocate=False
    )
    assert block is None


def test_signing_up_as_the_advocate_says_so():
    block = guards.check_at_signup(
        advocate=None, friend_name="x", friend_email="x@example.org", ip=None, now=None, by_advocate=True
    )
    assert block == guards.Block(guards.Reason.SELF, "Signed up from a browser logged in as the advocate")


@pytest.mark.django_db
def test_a_reversal_rewards_the_friends_earliest_other_completed_job(
    advocate, friend, friend_job, provider, lawn, django_assert_num_queries
):
    """The friend's rewarded job is cancelled while other jobs of theirs are completed
    already: the earliest completed of those earns the reward at once (of two completed
    at the same moment, the one with the smaller id). Another customer's job never does."""
    rewarded = friend_job()
    complete(rewarded)
    done = Job.objects.get(pk=rewarded.pk).completed_at

    def completed(n, after_hours, customer=friend):
        return JobFactory(
            id=uuid.UUID(int=n), customer=customer, provider=provider, service_type=lawn, status="completed",
            completed_at=done + dt.timedelta(hours=after_hours), next_due_date=dt.date(2030, 1, 1),
        )

    completed(1, 3)  # the smallest id, completed last
    completed(4, 2)
    earliest = completed(2, 2)  # as early as the one before, with a smaller id
    completed(5, -1, customer=CustomerFactory())  # someone else's, earlier

    with django_assert_num_queries(35):  # the referral is read with both people, in one query
        cancel_job(job=rewarded)

    standing = ReferralReward.objects.get(reversed_at__isnull=True)
    assert standing.job_id == earliest.pk
    assert ReferralReward.objects.get(job=rewarded).reversed_at is not None
    assert Referral.objects.get(friend=friend).status == Referral.Status.REWARDED


@pytest.mark.django_db
def test_the_yearly_cap_counts_this_advocates_standing_rewards_of_this_business_year(advocate, provider, lawn):
    """_rewards_this_year, the count the cap compares: rewards from the first moment of
    1 January to the last of 31 December, business time; not reversed ones, not another
    advocate's."""
    from loyalty.models import PointsEntry
    from loyalty.services import locked_account
    from referrals.services import _rewards_this_year
    from retention.clock import start_of_business_day

    def reward(at, *, of=advocate, reversed_at=None):
        friend = CustomerFactory()
        referral = Referral.objects.create(advocate=of, friend=friend)
        job = JobFactory(customer=friend, provider=provider, service_type=lawn)
        entry = PointsEntry.objects.create(account=locked_account(customer=of), points=500, type="referral", description="r")
        return ReferralReward.objects.create(
            referral=referral, advocate=of, job=job, points=500, entry=entry, created_at=at, reversed_at=reversed_at
        )

    year_start = start_of_business_day(dt.date(2026, 1, 1))
    next_year = start_of_business_day(dt.date(2027, 1, 1))
    tick = dt.timedelta(microseconds=1)
    reward(year_start)  # the first moment of the year
    reward(next_year - tick)  # the last
    reward(year_start - tick)  # last year
    reward(next_year)  # next year
    reward(year_start + dt.timedelta(days=40), reversed_at=year_start + dt.timedelta(days=41))
    reward(year_start + dt.timedelta(days=40), of=CustomerFactory())

    assert _rewards_this_year(advocate_id=advocate.pk, now=year_start + dt.timedelta(days=100)) == 2


def _second_rewarded_referral(provider, lawn):
    """Another advocate whose friend's first job earned them their reward."""
    from django.test import Client

    from referrals.services import referral_code_for
    from retention.models import Customer

    from .conftest import post_sign_up

    other = CustomerFactory(user__email="otto.other@example.com", user__name="Otto Other")
    post_sign_up(Client(), referral_code_for(customer=other).code, name="Gina Guest", email="gina@example.org",
                 ip="198.51.100.77")
    gina = Customer.objects.get(user__email="gina@example.org")
    complete(JobFactory(customer=gina, provider=provider, service_type=lawn, scheduled_for=dt.date.today()))
    return ReferralReward.objects.get(advocate=other)


def test_cancelling_a_job_that_earned_no_reward_reverses_none(advocate, friend, friend_job, provider, lawn):
    other_reward = _second_rewarded_referral(provider, lawn)
    rewarded, later = friend_job(), friend_job()
    complete(rewarded)
    complete(later)  # the referral is rewarded already: this one earns nothing
    assert cancel_job(job=later) is not None
    assert not ReferralReward.objects.filter(reversed_at__isnull=False).exists()
    assert sorted(ReferralReward.objects.values_list("job_id", flat=True)) == sorted([other_reward.job_id, rewarded.pk])


def test_cancelling_a_rewarded_job_reverses_that_jobs_reward_not_another(advocate, friend, friend_job, provider, lawn):
    job = friend_job()
    complete(job)
    other_reward = _second_rewarded_referral(provider, lawn)  # the newest standing reward
    cancel_job(job=job)
    assert ReferralReward.objects.get(job=job).reversed_at is not None
    other_reward.refresh_from_db()
    assert other_reward.reversed_at is None
    # This referral waits for the friend's next job again; the other one stays rewarded.
    assert Referral.objects.get(friend=friend).status == Referral.Status.JOINED
    assert Referral.objects.get(pk=other_reward.referral_id).status == Referral.Status.REWARDED


def test_a_block_keeps_the_first_300_characters_of_a_long_detail(friend):
    from referrals.services import _block

    referral = Referral.objects.get(friend=friend)
    detail = "same mailbox: " + "x" * 400
    _block(referral, guards.Block(reason=Referral.BlockReason.SAME_EMAIL, detail=detail))
    referral.refresh_from_db()
    assert referral.status == Referral.Status.BLOCKED and referral.blocked_at is not None
    assert referral.block_detail == detail[:300]

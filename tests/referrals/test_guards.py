"""Fraud guards, decided at sign-up and again at reward time: similar emails (case,
dots and +tags in the local part ignored), the same name, 10+ sign-ups from one IP
address within 7 days, and the advocate signing up themselves. A blocked referral is
not rewarded; staff unblock it (the reward follows if earned) or cancel it."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from loyalty.models import PointsEntry
from referrals import guards
from referrals.models import Referral
from referrals.services import ReferralError, cancel_referral, unblock_referral
from retention.models import PromoCode, User
from tests.factories import JobFactory, UserFactory

from .conftest import complete, post_sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", name="Sam Staff", is_staff=True)


def referral_of(email):
    return Referral.objects.select_related("friend").get(friend__user__email=email)


def reward_points(advocate):
    return sum(PointsEntry.objects.filter(account_id=advocate.pk, type="referral").values_list("points", flat=True))


@pytest.mark.parametrize(
    "friend_email",
    ["ADA.ADVOCATE+news@Example.com", "adaadvocate@example.com", "ada.advocate+deals@example.com", "A.d.a.Advocate+x@EXAMPLE.COM"],
)
def test_an_email_matching_the_advocates_blocks_at_sign_up(sign_up_friend, friend_email):
    sign_up_friend(name="Someone Else", email=friend_email)
    referral = referral_of(friend_email.lower())
    assert referral.status == Referral.Status.BLOCKED and referral.block_reason == "same_email"
    # The block holds back the advocate's reward; the sign-up still gives the friend their
    # code (PRODUCT.md: the form "gives them a personal welcome code").
    assert referral.welcome_code is not None and referral.welcome_code.customer == referral.friend


def test_a_different_mailbox_is_not_blocked(sign_up_friend):
    sign_up_friend(name="Someone Else", email="ada.advocate@example.org")  # other domain
    assert referral_of("ada.advocate@example.org").status == Referral.Status.JOINED


def test_canonical_email():
    assert guards.canonical_email("Jane.Doe+Promo@Example.COM") == "janedoe@example.com"
    assert guards.same_email("j.doe@x.com", "JDOE+a@x.com")
    assert not guards.same_email("jdoe@x.com", "jdoe@y.com")


def test_the_same_name_blocks_at_sign_up(sign_up_friend):
    sign_up_friend(name="  ada   ADVOCATE ", email="another@example.org")
    referral = referral_of("another@example.org")
    assert referral.status == Referral.Status.BLOCKED and referral.block_reason == "same_name"


def test_the_tenth_sign_up_from_one_ip_within_7_days_is_blocked(sign_up_friend):
    for i in range(10):
        sign_up_friend(name=f"Friend Number{i}", email=f"f{i}@example.org", ip="203.0.113.9")
    statuses = [referral_of(f"f{i}@example.org").status for i in range(10)]
    assert statuses == ["joined"] * 9 + ["blocked"]
    assert referral_of("f9@example.org").block_reason == "ip_burst"


def test_sign_ups_from_one_ip_more_than_7_days_apart_are_not_counted(sign_up_friend):
    for i in range(9):
        sign_up_friend(name=f"Friend Number{i}", email=f"f{i}@example.org", ip="203.0.113.9")
    Referral.objects.update(joined_at=timezone.now() - dt.timedelta(days=8))
    sign_up_friend(name="Late Friend", email="late@example.org", ip="203.0.113.9")
    assert referral_of("late@example.org").status == Referral.Status.JOINED


def test_the_advocate_signing_up_from_their_own_session_is_blocked(code, advocate):
    own = Client()
    own.force_login(advocate.user)
    post_sign_up(own, code, name="Totally Different", email="burner@example.org")
    referral = referral_of("burner@example.org")
    assert referral.status == Referral.Status.BLOCKED and referral.block_reason == "self"


def test_a_blocked_referral_is_not_rewarded(sign_up_friend, advocate, provider, lawn):
    sign_up_friend(name="Ada Advocate", email="sock@example.org")
    referral = referral_of("sock@example.org")
    complete(JobFactory(customer=referral.friend, provider=provider, service_type=lawn))
    referral.refresh_from_db()
    assert referral.status == Referral.Status.BLOCKED and referral.first_job_at is not None
    assert reward_points(advocate) == 0


def test_the_rules_are_checked_again_at_reward_time(friend, advocate, provider, lawn):
    # The friend renamed themselves after signing up.
    User.objects.filter(pk=friend.user_id).update(name="Ada Advocate")
    friend.user.refresh_from_db()
    complete(JobFactory(customer=friend, provider=provider, service_type=lawn))
    referral = Referral.objects.get(friend=friend)
    assert referral.status == Referral.Status.BLOCKED and referral.block_reason == "same_name"
    assert reward_points(advocate) == 0


def test_an_ip_burst_after_the_sign_up_blocks_at_reward_time(sign_up_friend, advocate, provider, lawn):
    for i in range(10):
        sign_up_friend(name=f"Friend Number{i}", email=f"f{i}@example.org", ip="203.0.113.9")
    first = referral_of("f0@example.org")
    assert first.status == Referral.Status.JOINED  # only 1 sign-up from the IP when it joined
    complete(JobFactory(customer=first.friend, provider=provider, service_type=lawn))
    first.refresh_from_db()
    assert first.status == Referral.Status.BLOCKED and first.block_reason == "ip_burst"


def test_staff_unblock_gives_the_reward_earned_and_never_a_second_welcome_code(sign_up_friend, advocate, provider, lawn, staff):
    sign_up_friend(name="Ada Advocate", email="twin@example.org")
    referral = referral_of("twin@example.org")
    complete(JobFactory(customer=referral.friend, provider=provider, service_type=lawn))
    assert reward_points(advocate) == 0

    unblock_referral(referral=referral, staff=staff)

    referral.refresh_from_db()
    assert referral.status == Referral.Status.REWARDED and referral.cleared_by == staff
    assert reward_points(advocate) == 500
    assert PromoCode.objects.filter(customer=referral.friend, source="welcome").count() == 1
    with pytest.raises(ReferralError):
        unblock_referral(referral=referral, staff=staff)


def test_staff_unblock_before_any_job_lets_the_first_job_reward(sign_up_friend, advocate, provider, lawn, staff):
    sign_up_friend(name="Ada Advocate", email="twin@example.org")
    referral = referral_of("twin@example.org")
    unblock_referral(referral=referral, staff=staff)
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.JOINED
    complete(JobFactory(customer=referral.friend, provider=provider, service_type=lawn))
    assert reward_points(advocate) == 500  # the cleared rules are not applied again


def test_staff_cancel_means_never_rewarded(sign_up_friend, advocate, provider, lawn, staff):
    sign_up_friend(name="Ada Advocate", email="twin@example.org")
    referral = referral_of("twin@example.org")
    cancel_referral(referral=referral, staff=staff)
    complete(JobFactory(customer=referral.friend, provider=provider, service_type=lawn))
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.CANCELLED
    assert reward_points(advocate) == 0
    with pytest.raises(ReferralError):
        unblock_referral(referral=referral, staff=staff)


def test_only_staff_can_unblock(sign_up_friend, customer):
    sign_up_friend(name="Ada Advocate", email="twin@example.org")
    with pytest.raises(ReferralError):
        unblock_referral(referral=referral_of("twin@example.org"), staff=customer.user)

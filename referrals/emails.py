"""The staff preview of the referral emails, built by the context functions the real
sends call (referrals.services) from sample values."""

import datetime as dt
from decimal import Decimal

from outbox.consent import Kind
from outbox.preview import SAMPLE_TODAY, Sample, register_sample
from retention.clock import start_of_business_day
from retention.models import PromoCode, User

from .services import account_exists_context, reward_context, welcome_context


def welcome_sample() -> Sample:
    promo = PromoCode(
        code="WLCM7XK4M2QP", discount_type=PromoCode.DiscountType.AMOUNT, discount_value=Decimal("20.00"),
        expires_at=start_of_business_day(SAMPLE_TODAY + dt.timedelta(days=60)),
    )
    context = welcome_context(advocate_name="Dana", promo=promo)
    return Sample(context, key_values=("Dana", promo.code, promo.label, context["book_url"], context["dashboard_url"]))


def account_exists_sample() -> Sample:
    context = account_exists_context(User(email="sam.sample@example.com", name="Sam Sample"))
    return Sample(context, key_values=("Sam", context["login_url"]))


def reward_sample() -> Sample:
    context = reward_context(friend_name="Nico", points=500)
    return Sample(context, key_values=("Nico", "500 points", context["rewards_url"], context["dashboard_url"]))


def register_samples() -> None:
    register_sample("referral_welcome", Kind.TRANSACTIONAL, welcome_sample)
    register_sample("referral_account_exists", Kind.TRANSACTIONAL, account_exists_sample)
    register_sample("referral_reward", Kind.TRANSACTIONAL, reward_sample)

"""Demo data for referrals: the demo customer invited their neighbour, whose first
service is done (a rewarded referral), and a second friend who has joined but not
booked yet, so every part of the referral widget shows.

Idempotent: each friend is referred once (found by the friend), and the reward goes
through the real service, which never rewards a friend twice."""

import datetime as dt

from django.db import transaction

from retention.clock import start_of_business_day
from retention.demo import completed_days_ago, demo_job, ensure_user
from retention.models import Customer, ServiceType

from .models import Referral
from .services import give_welcome_code, referral_code_for, reward_first_job


def _referral(*, advocate: Customer, friend: Customer, joined_on: dt.date) -> Referral:
    referral = Referral.objects.filter(friend=friend).first()
    if referral is None:
        referral = Referral.objects.create(
            advocate=advocate,
            friend=friend,
            signup_ip="203.0.113.7",
            joined_at=start_of_business_day(joined_on) + dt.timedelta(hours=18),
        )
        give_welcome_code(referral)
    return referral


def seed_referrals(types: dict[str, ServiceType], people: dict, *, today: dt.date) -> None:
    advocate, neighbour, provider = people["customer"], people["neighbour"], people["provider"]
    referral_code_for(customer=advocate)
    with transaction.atomic():
        rewarded = _referral(advocate=advocate, friend=neighbour, joined_on=today - dt.timedelta(days=40))
        lawn = types["lawn-care"]
        first_job = demo_job(
            "referrals/neighbor-first-lawn",
            customer=neighbour,
            provider=provider,
            service_type=lawn,
            price=lawn.base_price,
            amount_paid=lawn.base_price,
            **completed_days_ago(lawn, 20, today=today),
        )
        if rewarded.status == Referral.Status.JOINED:
            reward_first_job(job=first_job)
    friend_user, _ = ensure_user("jo@example.com", "Jo Joiner")
    friend, _ = Customer.objects.get_or_create(user=friend_user, defaults={"phone": "555-0102"})
    _referral(advocate=advocate, friend=friend, joined_on=today - dt.timedelta(days=3))

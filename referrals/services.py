"""Referral business rules: codes and link openings, the invited friend's sign-up, the
advocate's reward on the friend's first completed job (and its reversal), and staff
unblocking or cancelling a blocked referral.

The reward runs inside actions.jobs.complete_job's transaction. Locks are taken in one
order everywhere (the job, the friend's loyalty account, the referral, the advocate's
loyalty account), and the advocate's account lock also serializes the yearly cap.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from loyalty.services import grant_referral_points, locked_account, take_back_referral_points
from outbox.compose import queue_email
from outbox.consent import Kind
from retention.clock import business_date, business_today, start_of_business_day
from retention.links import absolute_url, booking_url
from retention.models import Customer, Job, PromoCode, User
from retention.notifications import notify
from retention.promo import code_expiry, issue_promo_code

from . import guards
from .models import (
    REFERRAL_NOTICE,
    WELCOME_SOURCE,
    LinkOpens,
    Referral,
    ReferralCode,
    ReferralReward,
    normalize_referral_code,
)

Status = Referral.Status
WELCOME_CODE_VALID_DAYS = 60
DASHBOARD_URL = "/customer-portal/"
REWARDS_URL = "/customer-portal/rewards/"


class ReferralError(Exception):
    """A staff step that cannot happen; the message says why."""


def first_name(user: User, fallback: str = "A friend") -> str:
    """What a public page or another customer may see of a person: the first word of
    their name, never their email."""
    words = user.name.split()
    return words[0] if words else fallback


def referral_url(code: str) -> str:
    return absolute_url(f"/r/{code}")


# --- Codes and link openings --------------------------------------------------------------


CODE_ATTEMPTS = 5  # a new code colliding with another customer's (1 in 31**9 / customers) is drawn again


def ensure_referral_code(*, customer: Customer | int) -> None:
    """Gives the customer a code if they have none: one INSERT ... ON CONFLICT DO
    NOTHING whether or not they had one, so the pages showing the code cost the same
    number of queries every time. Read the code afterwards; if it is missing, the new
    code collided with another customer's: call again."""
    ReferralCode.objects.bulk_create([ReferralCode(customer_id=getattr(customer, "pk", customer))], ignore_conflicts=True)


def referral_code_for(*, customer: Customer | int) -> ReferralCode:
    """The customer's code, created on first use (two queries)."""
    for _ in range(CODE_ATTEMPTS):
        ensure_referral_code(customer=customer)
        found = ReferralCode.objects.filter(pk=getattr(customer, "pk", customer)).first()
        if found is not None:
            return found
    raise RuntimeError("Could not draw a unique referral code.")


def find_code(text: str) -> ReferralCode | None:
    """The code a link holds, with its advocate, if it is known and the advocate active."""
    code = normalize_referral_code(text)
    if not code:
        return None
    return (
        ReferralCode.objects.filter(code=code, customer__user__is_active=True)
        .select_related("customer__user")
        .first()
    )


def record_link_open(*, code: ReferralCode, on: dt.date | None = None) -> None:
    """Counts one opening of the link: on the code (the advocate's widget) and per day
    (the staff funnel). Counters only go up by UPDATE ... + 1, never read and rewritten."""
    day = on or business_today()
    with transaction.atomic():
        ReferralCode.objects.filter(pk=code.pk).update(opens=F("opens") + 1)
        LinkOpens.objects.bulk_create([LinkOpens(code=code, day=day)], ignore_conflicts=True)
        LinkOpens.objects.filter(code=code, day=day).update(opens=F("opens") + 1)


# --- The friend's sign-up -------------------------------------------------------------------


@dataclass(frozen=True)
class SignUp:
    user: User | None  # None: the email already had an account (told by email instead)
    referral: Referral | None = None
    welcome_code: PromoCode | None = None


def sign_up(
    *,
    name: str,
    email: str,
    password: str,
    code: ReferralCode | None,
    ip: str | None,
    visitor: User | None = None,
) -> SignUp:
    """Creates the friend's user and customer, records the referral (with the IP
    address and time, blocked if a fraud rule says so: the advocate's reward waits for
    staff), and gives the friend a personal welcome code with a welcome email, blocked or
    not, all in one transaction. An email that already
    has an account gets an email saying so and nothing else changes; the caller answers
    both the same way. `code` None: a sign-up from an unknown link, with no referral."""
    email = User.objects.normalize_email(email.strip()).lower()
    name = " ".join(name.split())
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                return _create_friend(name=name, email=email, password=password, code=code, ip=ip, visitor=visitor)
        except IntegrityError:
            # The same email signed up at the same moment: answer as for an existing account.
            existing = User.objects.filter(email__iexact=email).first()
            if existing is None:
                raise
    else:
        make_password(password)  # the same work as a sign-up, so timing tells nothing
    _tell_account_exists(existing)
    return SignUp(user=None)


def _create_friend(
    *, name: str, email: str, password: str, code: ReferralCode | None, ip: str | None, visitor: User | None
) -> SignUp:
    user = User.objects.create_user(email=email, password=password, name=name)
    friend = Customer.objects.create(user=user)
    referral = promo = None
    if code is not None:
        now = timezone.now()
        advocate = code.customer
        block = guards.check_at_signup(
            advocate=advocate,
            friend_name=name,
            friend_email=email,
            ip=ip,
            now=now,
            by_advocate=visitor is not None and visitor.pk == advocate.user_id,
        )
        referral = Referral.objects.create(
            advocate=advocate,
            friend=friend,
            signup_ip=ip,
            joined_at=now,
            status=Status.BLOCKED if block else Status.JOINED,
            block_reason=block.reason if block else "",
            block_detail=block.detail if block else "",
            blocked_at=now if block else None,
        )
        # PRODUCT.md: the sign-up gives the friend their code; a fraud rule blocks only
        # the advocate's reward.
        promo = give_welcome_code(referral)
    _queue_welcome_email(friend=friend, referral=referral, promo=promo)
    return SignUp(user=user, referral=referral, welcome_code=promo)


def give_welcome_code(referral: Referral) -> PromoCode:
    """The friend's personal code: REFERRAL_FRIEND_DISCOUNT dollars off, single use, 60 days."""
    promo = issue_promo_code(
        customer=referral.friend,
        source=WELCOME_SOURCE,
        discount_type=PromoCode.DiscountType.AMOUNT,
        discount_value=Decimal(settings.REFERRAL_FRIEND_DISCOUNT),
        expires_at=code_expiry(business_today() + dt.timedelta(days=WELCOME_CODE_VALID_DAYS)),
    )
    referral.welcome_code = promo
    referral.save(update_fields=["welcome_code"])
    return promo


def _queue_welcome_email(*, friend: Customer, referral: Referral | None, promo: PromoCode | None) -> None:
    queue_email(
        template="referral_welcome",
        customer=friend,
        kind=Kind.TRANSACTIONAL,
        idempotency_key=f"referral_welcome/{friend.pk}" + (f"/{promo.pk}" if promo else ""),
        context=welcome_context(advocate_name=first_name(referral.advocate.user) if referral else "", promo=promo),
    )


def welcome_context(*, advocate_name: str, promo: PromoCode | None) -> dict:
    """The referral_welcome email's context (the real send and the staff preview)."""
    return {
        "advocate_name": advocate_name,
        "promo": promo,
        "dashboard_url": absolute_url(DASHBOARD_URL),
        "book_url": booking_url(code=promo.code, absolute=True) if promo else booking_url(absolute=True),
    }


def account_exists_context(user: User) -> dict:
    """The referral_account_exists email's context."""
    return {"user": user, "login_url": absolute_url("/accounts/login/")}


def reward_context(*, friend_name: str, points: int) -> dict:
    """The referral_reward email's context."""
    return {
        "friend_name": friend_name,
        "points": points,
        "rewards_url": absolute_url(REWARDS_URL),
        "dashboard_url": absolute_url(DASHBOARD_URL),
    }


def _tell_account_exists(user: User) -> None:
    """One email a day at most, so the form cannot be used to flood someone's inbox."""
    queue_email(
        template="referral_account_exists",
        customer=getattr(user, "customer", None),
        to_email=user.email,
        kind=Kind.TRANSACTIONAL,
        idempotency_key=f"referral_account_exists/{user.pk}/{business_today().isoformat()}",
        context=account_exists_context(user),
    )


# --- The advocate's reward ------------------------------------------------------------------


def reward_first_job(*, job: Job) -> ReferralReward | None:
    """Called by complete_job when a job is completed (once per job: the job's row lock
    and status make repeats no-ops). If the job's customer was referred and this is
    their first completed job, the advocate earns REFERRAL_ADVOCATE_POINTS unless a fraud
    rule or the yearly cap blocks it. One query for customers who were not referred."""
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("advocate__user", "friend__user")
        .filter(friend_id=job.customer_id)
        .first()
    )
    if referral is None:
        return None
    if referral.first_job_at is None:
        referral.first_job_at = job.completed_at or timezone.now()
        referral.save(update_fields=["first_job_at"])
    return _reward_if_due(referral, job)


def _reward_if_due(referral: Referral, job: Job) -> ReferralReward | None:
    """With the referral locked: reward it for `job` if it is waiting for a reward."""
    if referral.status != Status.JOINED:
        return None  # rewarded already, blocked (staff decide) or cancelled
    if referral.cleared_by_id is None:
        block = guards.check_at_reward(referral)
        if block is not None:
            _block(referral, block)
            return None
    locked_account(customer=referral.advocate_id)  # serializes the advocate's yearly cap
    now = timezone.now()
    if _rewards_this_year(advocate_id=referral.advocate_id, now=now) >= settings.REFERRAL_MAX_PER_YEAR:
        _block(
            referral,
            guards.Block(
                Referral.BlockReason.YEARLY_CAP,
                f"{settings.REFERRAL_MAX_PER_YEAR} referrals already rewarded in {business_date(now).year}",
            ),
        )
        return None
    points = settings.REFERRAL_ADVOCATE_POINTS
    friend_name = first_name(referral.friend.user)
    entry = grant_referral_points(
        customer=referral.advocate_id,
        points=points,
        description=f"Referral: {friend_name} completed their first service",
    )
    reward = ReferralReward.objects.create(
        referral=referral, advocate_id=referral.advocate_id, job=job, points=points, entry=entry, created_at=now
    )
    referral.status = Status.REWARDED
    referral.save(update_fields=["status"])
    notify(
        customer=referral.advocate,
        kind=REFERRAL_NOTICE,
        title=f"🎁 {points} points: {friend_name} completed their first service",
        message=f"Thanks for referring {friend_name}! {points} points are in your balance.",
        action_url=REWARDS_URL,
    )
    queue_email(
        template="referral_reward",
        customer=referral.advocate,
        kind=Kind.TRANSACTIONAL,
        idempotency_key=f"referral_reward/{reward.pk}",
        context=reward_context(friend_name=friend_name, points=points),
    )
    return reward


def _rewards_this_year(*, advocate_id: int, now: dt.datetime) -> int:
    """Standing rewards in the business calendar year of `now`."""
    year = business_date(now).year
    return ReferralReward.objects.filter(
        advocate_id=advocate_id,
        reversed_at__isnull=True,
        created_at__gte=start_of_business_day(dt.date(year, 1, 1)),
        created_at__lt=start_of_business_day(dt.date(year + 1, 1, 1)),
    ).count()


def _block(referral: Referral, block: guards.Block) -> None:
    referral.status = Status.BLOCKED
    referral.block_reason = block.reason
    referral.block_detail = block.detail[:300]
    referral.blocked_at = timezone.now()
    referral.save(update_fields=["status", "block_reason", "block_detail", "blocked_at"])


def reverse_reward_for_job(*, job: Job) -> ReferralReward | None:
    """Called by cancel_job for a completed job: the reward that job earned an advocate
    is reversed as other points are (never below a zero balance). The referral waits
    again, and the friend's next standing completed job (if any) earns it."""
    standing = ReferralReward.objects.filter(job=job, reversed_at__isnull=True).values_list("referral_id", flat=True)
    referral_id = standing.first()
    if referral_id is None:
        return None
    referral = (
        Referral.objects.select_for_update(of=("self",)).select_related("advocate__user", "friend__user").get(pk=referral_id)
    )
    reward = ReferralReward.objects.filter(job=job, reversed_at__isnull=True).first()
    if reward is None:  # reversed while we waited for the lock
        return None
    reward.reversal_entry = take_back_referral_points(
        customer=reward.advocate_id,
        points=reward.points,
        description=f"Referral reversed: {first_name(referral.friend.user)}'s service was cancelled",
    )
    reward.reversed_at = timezone.now()
    reward.save(update_fields=["reversal_entry", "reversed_at"])
    if referral.status == Status.REWARDED:
        referral.status = Status.JOINED
        referral.save(update_fields=["status"])
        next_job = _first_completed_job(referral)
        if next_job is not None:
            _reward_if_due(referral, next_job)
    return reward


def _first_completed_job(referral: Referral) -> Job | None:
    return (
        Job.objects.filter(customer_id=referral.friend_id, status=Job.Status.COMPLETED)
        .order_by("completed_at", "pk")
        .first()
    )


# --- Staff ----------------------------------------------------------------------------------


def unblock_referral(*, referral: Referral, staff: User) -> Referral:
    """Staff clear a blocked referral: the fraud checks are not applied to it again, the
    friend gets their welcome code if they had none, and the advocate is rewarded if the
    friend has already completed a job (the yearly cap still applies)."""
    if not staff.is_staff:
        raise ReferralError("Only staff can unblock referrals.")
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("advocate__user", "friend__user")
            .get(pk=referral.pk)
        )
        if referral.status != Status.BLOCKED:
            raise ReferralError(f"Only blocked referrals can be unblocked; this one is {referral.get_status_display().lower()}.")
        was = referral.get_block_reason_display()
        referral.status = Status.JOINED
        referral.block_reason = ""
        referral.block_detail = f"Unblocked by {staff.email} (was: {was})"[:300]
        referral.cleared_by = staff
        referral.cleared_at = timezone.now()
        referral.save(update_fields=["status", "block_reason", "block_detail", "cleared_by", "cleared_at"])
        if referral.welcome_code_id is None:
            promo = give_welcome_code(referral)
            _queue_welcome_email(friend=referral.friend, referral=referral, promo=promo)
        job = _first_completed_job(referral)
        if job is not None:
            _reward_if_due(referral, job)
    return referral


def cancel_referral(*, referral: Referral, staff: User) -> Referral:
    """Staff close a referral for good: it is never rewarded. A rewarded one is left alone."""
    if not staff.is_staff:
        raise ReferralError("Only staff can cancel referrals.")
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.status == Status.REWARDED:
            raise ReferralError("This referral was already rewarded; cancel the friend's job to reverse it.")
        if referral.status == Status.CANCELLED:
            return referral
        referral.status = Status.CANCELLED
        referral.cancelled_by = staff
        referral.cancelled_at = timezone.now()
        referral.save(update_fields=["status", "cancelled_by", "cancelled_at"])
    return referral

"""The fraud rules a referral must pass, decided at sign-up and again when the reward
is due: the friend's email is the advocate's (case, dots and +tags in the local part
ignored), the same name, 10 or more sign-ups from one IP address within 7 days, or the
advocate signing up themselves. Each rule is a plain function of the people involved."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from retention.models import Customer

from .models import Referral

Reason = Referral.BlockReason

IP_WINDOW = dt.timedelta(days=7)
IP_LIMIT = 10  # sign-ups from one address within IP_WINDOW that block


@dataclass(frozen=True)
class Block:
    reason: str
    detail: str


def canonical_email(email: str) -> str:
    """The mailbox an address reaches for the same-email rule: lower case, and in the
    local part dots and a +tag ignored (jane.doe+x@example.com is janedoe@example.com)."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}"


def canonical_name(name: str) -> str:
    return " ".join(name.casefold().split())


def same_email(advocate_email: str, friend_email: str) -> bool:
    return canonical_email(advocate_email) == canonical_email(friend_email)


def same_name(advocate_name: str, friend_name: str) -> bool:
    advocate, friend = canonical_name(advocate_name), canonical_name(friend_name)
    return bool(advocate) and advocate == friend


def signups_from_ip(ip: str, *, around: dt.datetime, before_only: bool) -> int:
    """Referral sign-ups from `ip` within 7 days before `around` (at sign-up), or within
    7 days either side of it (at reward time, when later sign-ups are known too)."""
    window = Q(joined_at__gt=around - IP_WINDOW)
    window &= Q(joined_at__lte=around) if before_only else Q(joined_at__lt=around + IP_WINDOW)
    return Referral.objects.filter(window, signup_ip=ip).count()


def check_people(*, advocate: Customer, friend_name: str, friend_email: str) -> Block | None:
    """The rules about who the friend is (no queries: both users are loaded)."""
    if same_email(advocate.user.email, friend_email):
        return Block(Reason.SAME_EMAIL, f"{friend_email} is the same mailbox as {advocate.user.email}")
    if same_name(advocate.user.name, friend_name):
        return Block(Reason.SAME_NAME, f"Both are named {advocate.user.name.strip()}")
    return None


def check_ip(ip: str | None, *, around: dt.datetime, before_only: bool) -> Block | None:
    if not ip:
        return None
    count = signups_from_ip(ip, around=around, before_only=before_only)
    if count >= IP_LIMIT:
        return Block(Reason.IP_BURST, f"{count} sign-ups from {ip} within 7 days")
    return None


def check_at_signup(
    *, advocate: Customer, friend_name: str, friend_email: str, ip: str | None, now: dt.datetime, by_advocate: bool
) -> Block | None:
    """The rules for a sign-up about to be recorded (counting itself among the IP's)."""
    if by_advocate:
        return Block(Reason.SELF, "Signed up from a browser logged in as the advocate")
    block = check_people(advocate=advocate, friend_name=friend_name, friend_email=friend_email)
    if block:
        return block
    if ip and signups_from_ip(ip, around=now, before_only=True) + 1 >= IP_LIMIT:
        return Block(Reason.IP_BURST, f"{IP_LIMIT}+ sign-ups from {ip} within 7 days")
    return None


def check_at_reward(referral: Referral) -> Block | None:
    """The same rules again when the reward is due, on today's names and emails and with
    every sign-up from the IP known by now."""
    block = check_people(
        advocate=referral.advocate, friend_name=referral.friend.user.name, friend_email=referral.friend.user.email
    )
    return block or check_ip(referral.signup_ip, around=referral.joined_at, before_only=False)

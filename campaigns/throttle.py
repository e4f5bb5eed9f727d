"""Throttling promo-code guessing at booking, per customer.

Codes carry 59 bits of randomness, but a script could still try codes at booking
all day. Each code a customer tries is written down (PromoCodeAttempt, in the
database so every gunicorn worker sees it) and counts as wrong until the lookup
shows it was the customer's own code; after MAX_WRONG_CODES wrong ones within
WINDOW, no code is even looked up until the oldest of them ages out. The count and
the new attempt are written under a lock on the customer's row, so parallel
requests cannot slip past the limit.
"""

import datetime as dt
import math
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from retention.models import Customer
from retention.promo import NOT_VALID, PromoCodeError

from .models import PromoCodeAttempt

MAX_WRONG_CODES = 10
WINDOW = dt.timedelta(minutes=15)


class TooManyCodeAttempts(PromoCodeError):
    """The customer tried too many wrong codes lately; the message says when to retry."""


@contextmanager
def promo_code_attempt(*, customer: Customer, text: str):
    """Wrap every use of a code the customer typed (quote or booking).

    Raises TooManyCodeAttempts before the block runs when the customer is throttled.
    An unknown code, or another customer's (both NOT_VALID), stays counted as wrong;
    anything else, including the customer's own expired or used code, does not.
    """
    if not text.strip():
        yield
        return
    attempt = _begin_attempt(customer)
    try:
        yield
    except PromoCodeError as exc:
        if str(exc) != NOT_VALID:
            _not_a_guess(attempt)
        raise
    except BaseException:
        _not_a_guess(attempt)
        raise
    else:
        _not_a_guess(attempt)


def _begin_attempt(customer: Customer) -> PromoCodeAttempt:
    now = timezone.now()
    with transaction.atomic():
        list(Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk"))
        mine = PromoCodeAttempt.objects.filter(customer=customer)
        mine.filter(attempted_at__lte=now - WINDOW).delete()  # keeps the table small
        recent = list(mine.filter(wrong=True).order_by("-attempted_at").values_list("attempted_at", flat=True))
        if len(recent) >= MAX_WRONG_CODES:
            frees_at = recent[MAX_WRONG_CODES - 1] + WINDOW
            minutes = max(1, math.ceil((frees_at - now).total_seconds() / 60))
            raise TooManyCodeAttempts(
                f"Too many promo codes tried. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            )
        return PromoCodeAttempt.objects.create(customer=customer, attempted_at=now)


def _not_a_guess(attempt: PromoCodeAttempt) -> None:
    PromoCodeAttempt.objects.filter(pk=attempt.pk).update(wrong=False)

"""Issuing promo codes and redeeming them at booking.

Codes are single-use: using one is a conditional UPDATE, so two bookings racing
for one code cannot both have it.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format

from .clock import start_of_business_day
from .models import Customer, PromoCode, ServiceType
from .models.promo import normalize_code


class PromoCodeError(Exception):
    """A code the customer cannot use; the message is safe to show them."""


# Unknown codes and other customers' codes get the same answer, so codes cannot be probed.
NOT_VALID = "That promo code isn't valid."


def code_expiry(valid_through: dt.date) -> dt.datetime:
    """A code valid through a day works until the very end of that business day, so
    its expiry shows as that day everywhere ("expired on", the banners). Every code
    (seasonal, win-back, loyalty voucher) expires this way: code_expiry(as_of + days)."""
    return start_of_business_day(valid_through + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)


def issue_promo_code(
    *,
    customer: Customer,
    source: str,
    discount_type: str,
    discount_value: Decimal,
    expires_at: dt.datetime,
    service_types: Iterable[ServiceType] = (),
) -> PromoCode:
    promo = PromoCode.objects.create(
        customer=customer,
        source=source,
        discount_type=discount_type,
        discount_value=discount_value,
        expires_at=expires_at,
    )
    if service_types:
        promo.service_types.set(service_types)
    return promo


def find_usable_code(*, customer: Customer, text: str, service_type: ServiceType) -> PromoCode:
    """The customer's own code for this service, or PromoCodeError saying why not."""
    promo = (
        PromoCode.objects.filter(customer=customer, code=normalize_code(text))
        .prefetch_related("service_types")
        .first()
    )
    if promo is None:
        raise PromoCodeError(NOT_VALID)
    if promo.used_at is not None:
        raise PromoCodeError("That promo code has already been used.")
    if promo.expires_at <= timezone.now():
        expired_on = date_format(timezone.localtime(promo.expires_at), "N j, Y")
        raise PromoCodeError(f"That promo code expired on {expired_on}.")
    covered = list(promo.service_types.all())
    if covered and service_type not in covered:
        names = ", ".join(s.name for s in covered)
        raise PromoCodeError(f"That promo code is for {names} only, not {service_type.name}.")
    return promo


def claim_promo_code(*, promo: PromoCode) -> None:
    """Marks the code used, atomically; call inside the booking's transaction."""
    now = timezone.now()
    claimed = PromoCode.objects.filter(pk=promo.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not claimed:
        raise PromoCodeError("That promo code has already been used.")
    promo.used_at = now


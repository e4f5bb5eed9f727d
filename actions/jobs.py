"""The job lifecycle, the one place each step happens: booking, completing and
cancelling a job. The portal, the JSON API, admin and commands all call these.

This module sits above retention, loyalty, campaigns and reminders because a
step here touches several of them in one transaction.
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from loyalty.services import award_job_points, points_awarded_for, reverse_job_points
from referrals.services import reverse_reward_for_job, reward_first_job
from plans.services import award_plan_bonus, visit_price
from retention.clock import business_date, business_today
from retention.models import Customer, Job, PromoCode, Provider, ServiceType, User
from retention.models.notifications import JOB_UPDATE
from retention.notifications import notify
from retention.promo import claim_promo_code, find_usable_code


class BookingError(Exception):
    """The booking cannot be made; the message is safe to show the customer."""


class JobStateError(Exception):
    """The job is not in a state that allows this step."""


class AmountError(ValueError):
    """The amount paid given at completion is not acceptable; the message says why and
    `code` is the API's error code: `invalid_request` (not dollars and cents that fit)
    or `amount_out_of_range` (more than MAX_AMOUNT_FACTOR x the list price)."""

    def __init__(self, message: str, *, code: str = "invalid_request"):
        super().__init__(message)
        self.code = code


def _amount_pattern() -> str:
    field = Job._meta.get_field("amount_paid")
    whole = field.max_digits - field.decimal_places
    return rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{field.decimal_places}}})?$"


# What an amount paid looks like: dollars and cents that fit Job.amount_paid, no sign,
# no exponent. The JSON API's schema publishes the same pattern.
AMOUNT_PATTERN = _amount_pattern()


def amount_limit(*, job: Job) -> Decimal:
    """The most a provider may record as paid for this job: MAX_AMOUNT_FACTOR x its list price."""
    return (job.price * settings.MAX_AMOUNT_FACTOR).quantize(Decimal("0.01"))


def checked_amount_paid(*, job: Job, amount: str | Decimal | None, completed_by: User | None = None) -> Decimal | None:
    """The amount paid to record when `job` is completed, or None to keep what was booked.

    The one amount rule: the API, the provider's form, admin and complete_job all call
    it. Raises AmountError unless the amount is dollars and cents that fit the column
    and, unless a staff member completes the job, at most amount_limit() (PRODUCT.md)."""
    if amount is None:
        return None
    text = amount if isinstance(amount, str) else str(amount)
    if not re.fullmatch(AMOUNT_PATTERN, text):
        raise AmountError("Enter the amount paid in dollars and cents, such as 149.00.")
    value = Decimal(text).quantize(Decimal("0.01"))
    staff = completed_by is not None and completed_by.is_staff
    if not staff and value > (limit := amount_limit(job=job)):
        raise AmountError(
            f"The amount paid can be at most ${limit} ({settings.MAX_AMOUNT_FACTOR} x the list "
            f"price of ${job.price}); staff can record more in admin.",
            code="amount_out_of_range",
        )
    return value


def pick_provider(*, service_type: ServiceType, on: dt.date) -> Provider:
    """The provider offering this service with the fewest jobs already that day."""
    provider = (
        Provider.objects.filter(service_types=service_type, user__is_active=True)
        .annotate(
            load=Count(
                "jobs",
                filter=Q(jobs__scheduled_for=on, jobs__status=Job.Status.SCHEDULED),
            )
        )
        .order_by("load", "business_name")
        .first()
    )
    if provider is None:
        raise BookingError(f"No provider offers {service_type.name} yet.")
    return provider


def quote(*, customer: Customer, service_type: ServiceType, promo_code_text: str = "") -> tuple[Decimal, Decimal]:
    """(list price, price to pay) for a booking; raises PromoCodeError for a bad code."""
    price = service_type.base_price
    if not promo_code_text.strip():
        return price, price
    promo = find_usable_code(customer=customer, text=promo_code_text, service_type=service_type)
    return price, promo.discounted(price)


def first_bookable_day() -> dt.date:
    """The earliest date a job can be booked or moved to: today in the business time zone.
    The booking page's date picker starts here."""
    return business_today()


def book_job(
    *,
    customer: Customer,
    service_type: ServiceType,
    scheduled_for: dt.date,
    promo_code_text: str = "",
    provider: Provider | None = None,
    discount_percent: int = 0,
) -> Job:
    """Books a job with a provider who offers the service, applying a promo code
    atomically: a code is used by one booking even when two race for it.

    `provider` books with that provider (one who offers the service) instead of the
    least busy; `discount_percent` takes a maintenance plan's or a service bundle's
    discount off the list price (plans.services.visit_price), with no promo code on top."""
    if scheduled_for < first_bookable_day():
        raise BookingError("Pick today or a later date.")
    if discount_percent and promo_code_text.strip():
        raise BookingError("A plan visit or a bundle takes no promo code on top.")
    with transaction.atomic():
        provider = provider or pick_provider(service_type=service_type, on=scheduled_for)
        price = amount = service_type.base_price
        if discount_percent:
            amount = visit_price(list_price=price, discount_percent=discount_percent)
        promo = None
        if promo_code_text.strip():
            promo = find_usable_code(customer=customer, text=promo_code_text, service_type=service_type)
            claim_promo_code(promo=promo)
            amount = promo.discounted(price)
        job = Job.objects.create(
            customer=customer,
            provider=provider,
            service_type=service_type,
            scheduled_for=scheduled_for,
            price=price,
            amount_paid=amount,
            promo_code=promo,
        )
    return job


@dataclass(frozen=True)
class Completion:
    job: Job
    points_awarded: int
    completed_now: bool


def complete_job(
    *, job: Job, amount: str | Decimal | None = None, completed_by: User | None = None
) -> Completion:
    """Marks a job completed, records who did it and the amount paid (checked by
    checked_amount_paid: a staff member may record any amount), sets when it is next
    due and awards its points, in one transaction. Completing an already completed job
    changes nothing; a bad amount is refused either way."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        amount = checked_amount_paid(job=job, amount=amount, completed_by=completed_by)
        if job.status == Job.Status.COMPLETED:
            return Completion(job=job, points_awarded=points_awarded_for(job=job), completed_now=False)
        if job.status == Job.Status.CANCELLED:
            raise JobStateError("A cancelled job cannot be completed.")
        now = timezone.now()
        job.status = Job.Status.COMPLETED
        job.completed_at = now
        job.completed_by = completed_by
        if amount is not None:
            job.amount_paid = amount
        job.next_due_date = job.service_type.next_due_date(business_date(now))
        job.save(update_fields=["status", "completed_at", "completed_by", "amount_paid", "next_due_date"])
        points = award_job_points(job=job)
        reward_first_job(job=job)  # the advocate's points if a referred friend's first job
        points += award_plan_bonus(job=job)
        notify(
            customer=job.customer,
            kind=JOB_UPDATE,
            title=f"{job.service_type.name} completed",
            message=(
                f"{job.provider.business_name} completed your {job.service_type.name}."
                + (f" You earned {points} points." if points else "")
            ),
            action_url="/customer-portal/jobs/",
        )
    return Completion(job=job, points_awarded=points, completed_now=True)


def cancel_job(*, job: Job) -> Job:
    """Cancels a job. A completed job's points are reversed; a scheduled job gives back
    the promo code or voucher it used, if unexpired (PRODUCT.md), so the customer can
    book with it again (the code leaves the cancelled job: one code, one job)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status == Job.Status.CANCELLED:
            return job
        was_completed = job.status == Job.Status.COMPLETED
        job.status = Job.Status.CANCELLED
        job.cancelled_at = timezone.now()
        fields = ["status", "cancelled_at"]
        if not was_completed and job.promo_code_id is not None:
            given_back = PromoCode.objects.filter(pk=job.promo_code_id, expires_at__gt=job.cancelled_at).update(
                used_at=None
            )
            if given_back:
                job.promo_code = None
                fields.append("promo_code")
        job.save(update_fields=fields)
        if was_completed:
            reverse_job_points(job=job)
            reverse_reward_for_job(job=job)
    return job


def reschedule_job(*, job: Job, scheduled_for: dt.date) -> Job:
    """Moves a scheduled job to another day, with the same provider, price and code.
    Raises JobStateError unless the job is scheduled, BookingError for a day before
    first_bookable_day()."""
    if scheduled_for < first_bookable_day():
        raise BookingError("Pick today or a later date.")
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status != Job.Status.SCHEDULED:
            raise JobStateError(f"A {job.get_status_display().lower()} job cannot be rescheduled.")
        job.scheduled_for = scheduled_for
        job.save(update_fields=["scheduled_for"])
    return job

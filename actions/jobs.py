"""The job lifecycle, the one place each step happens: booking, completing and
cancelling a job. The portal, the JSON API, admin and commands all call these.

This module sits above retention, loyalty, campaigns and reminders because a
step here touches several of them in one transaction.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from loyalty.services import award_job_points, points_awarded_for, reverse_job_points
from retention.clock import business_date, business_today
from retention.models import Customer, Job, Provider, ServiceType
from retention.models.notifications import JOB_UPDATE
from retention.notifications import notify
from retention.promo import claim_promo_code, find_usable_code


class BookingError(Exception):
    """The booking cannot be made; the message is safe to show the customer."""


class JobStateError(Exception):
    """The job is not in a state that allows this step."""


class AmountError(ValueError):
    """The amount paid given at completion is not acceptable; the message says why."""


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


CENT = Decimal("0.01")


def percent_off(price: Decimal, percent: int) -> Decimal:
    """`price` less `percent` of it, the discount rounded to the cent as a percent promo
    code rounds it (PromoCode.discounted)."""
    return price - (price * Decimal(percent) / Decimal(100)).quantize(CENT)


def book_job(
    *,
    customer: Customer,
    service_type: ServiceType,
    scheduled_for: dt.date,
    promo_code_text: str = "",
    discount_percent: int = 0,
) -> Job:
    """Books a job with a provider who offers the service, applying a promo code
    atomically: a code is used by one booking even when two race for it.
    `discount_percent` is a price agreed elsewhere (a service bundle), which takes no
    promo code on top."""
    if scheduled_for < business_today():
        raise BookingError("Pick today or a later date.")
    if discount_percent and promo_code_text.strip():
        raise BookingError("A bundle price takes no promo code on top.")
    with transaction.atomic():
        provider = pick_provider(service_type=service_type, on=scheduled_for)
        price = service_type.base_price
        amount = percent_off(price, discount_percent) if discount_percent else price
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


def complete_job(*, job: Job, amount: Decimal | None = None) -> Completion:
    """Marks a job completed, sets when it is next due and awards its points, in one
    transaction. Completing an already completed job changes nothing."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status == Job.Status.COMPLETED:
            return Completion(job=job, points_awarded=points_awarded_for(job=job), completed_now=False)
        if job.status == Job.Status.CANCELLED:
            raise JobStateError("A cancelled job cannot be completed.")
        if amount is not None and amount < 0:
            raise AmountError("The amount paid cannot be negative.")
        now = timezone.now()
        job.status = Job.Status.COMPLETED
        job.completed_at = now
        if amount is not None:
            job.amount_paid = amount
        job.next_due_date = job.service_type.next_due_date(business_date(now))
        job.save(update_fields=["status", "completed_at", "amount_paid", "next_due_date"])
        points = award_job_points(job=job)
        notify(
            customer=job.customer,
            kind=JOB_UPDATE,
            title=f"{job.service_type.name} completed",
            message=(
                f"{job.provider.business_name} completed your {job.service_type.name.lower()}."
                + (f" You earned {points} points." if points else "")
            ),
            action_url="/customer-portal/jobs/",
        )
    return Completion(job=job, points_awarded=points, completed_now=True)


def cancel_job(*, job: Job) -> Job:
    """Cancels a job; a completed job's points are reversed."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status == Job.Status.CANCELLED:
            return job
        was_completed = job.status == Job.Status.COMPLETED
        job.status = Job.Status.CANCELLED
        job.cancelled_at = timezone.now()
        job.save(update_fields=["status", "cancelled_at"])
        if was_completed:
            reverse_job_points(job=job)
    return job

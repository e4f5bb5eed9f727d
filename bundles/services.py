"""Booking a bundle: one job per service type, in one transaction, all or nothing."""

import datetime as dt

from django.db import transaction

from actions.jobs import BookingError, book_job
from retention.clock import business_today
from retention.models import Customer, Job

from .selectors import BundleOffer

NO_CODE_ON_TOP = "A bundle price takes no promo code on top."


def book_bundle(
    *, customer: Customer, offer: BundleOffer, scheduled_for: dt.date, promo_code_text: str = ""
) -> list[Job]:
    """Books every service of the bundle for `scheduled_for` through book_job at the
    bundle's discount. If any one cannot be booked (no provider offers it) nothing is
    booked, and the BookingError names each service that could not be."""
    if promo_code_text.strip():
        raise BookingError(NO_CODE_ON_TOP)
    if scheduled_for < business_today():
        raise BookingError("Pick today or a later date.")
    jobs, unavailable = [], []
    with transaction.atomic():
        for service in offer.service_types:
            try:
                jobs.append(
                    book_job(
                        customer=customer,
                        service_type=service,
                        scheduled_for=scheduled_for,
                        discount_percent=offer.bundle.discount_percent,
                    )
                )
            except BookingError:
                unavailable.append(service.name)
        if unavailable:
            # Raising rolls back the jobs already booked in this transaction.
            raise BookingError(
                f"No provider offers {' or '.join(unavailable)} yet, so nothing was booked. "
                "Book the other services one by one, or try again later."
            )
    return jobs

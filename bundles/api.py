"""GET /api/customer/bundles and POST /api/customer/bundles/<id>/book."""

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from actions.jobs import BookingError
from retention.api import ERROR_RESPONSES, ApiError, customer_auth, not_found

from .selectors import bundle_offer, bundle_offers
from .services import NO_CODE_ON_TOP, book_bundle

router = Router(tags=["customer"], auth=customer_auth)


class BundleOut(Schema):
    id: int
    name: str
    description: str
    serviceTypes: list[str]
    discountPercent: int
    regularPrice: str
    bundlePrice: str


class BundlesOut(Schema):
    bundles: list[BundleOut]


class BookBundleIn(Schema):
    date: str
    promoCode: str | None = None  # accepted only to refuse it clearly


class BookedJobOut(Schema):
    id: str
    serviceType: str
    scheduledFor: str
    provider: str
    price: str
    amount: str


class BookedBundleOut(Schema):
    jobs: list[BookedJobOut]
    bundlePrice: str


def _bundle(offer) -> dict:
    return {
        "id": offer.bundle.pk,
        "name": offer.bundle.name,
        "description": offer.bundle.description,
        "serviceTypes": [s.name for s in offer.service_types],
        "discountPercent": offer.bundle.discount_percent,
        "regularPrice": str(offer.regular_price),
        "bundlePrice": str(offer.bundle_price),
    }


@router.get("/bundles", response={200: BundlesOut, **ERROR_RESPONSES})
def bundles(request: HttpRequest):
    """The bundles that fit the caller now: active, in season (months may wrap the year),
    and not every service already scheduled. Prices are in dollars: `regularPrice` is the
    services' list prices added up, `bundlePrice` what booking the bundle costs."""
    return {"bundles": [_bundle(offer) for offer in bundle_offers(customer=request.customer)]}


@router.post("/bundles/{bundle_id}/book", response={200: BookedBundleOut, **ERROR_RESPONSES})
def book(request: HttpRequest, bundle_id: int, payload: BookBundleIn):
    """Books one job per service of the bundle on `date` (YYYY-MM-DD) at the bundle price,
    all or nothing: 400 `booking_failed` names a service no provider offers, and nothing is
    booked. No promo code on top (400 `promo_not_allowed`). 404 for a bundle not offered now."""
    try:
        day = dt.date.fromisoformat(payload.date)
    except ValueError:
        raise ApiError(400, "invalid_request", "date must be YYYY-MM-DD.") from None
    if payload.promoCode and payload.promoCode.strip():
        raise ApiError(400, "promo_not_allowed", NO_CODE_ON_TOP)
    offer = bundle_offer(customer=request.customer, bundle_id=bundle_id)
    if offer is None:
        raise not_found("No such bundle is offered now.")
    try:
        jobs = book_bundle(customer=request.customer, offer=offer, scheduled_for=day)
    except BookingError as exc:
        raise ApiError(400, "booking_failed", str(exc)) from None
    return {
        "jobs": [
            {
                "id": str(job.id),
                "serviceType": job.service_type.name,
                "scheduledFor": job.scheduled_for.isoformat(),
                "provider": job.provider.business_name,
                "price": str(job.price),
                "amount": str(job.amount_paid),
            }
            for job in jobs
        ],
        "bundlePrice": str(sum(job.amount_paid for job in jobs)),
    }

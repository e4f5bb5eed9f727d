"""GET /api/customer/recommendations."""

from django.http import HttpRequest
from ninja import Router, Schema

from retention.api import ERROR_RESPONSES, customer_auth

from .selectors import shown_recommendations

router = Router(tags=["customer"], auth=customer_auth)


class RecommendationOut(Schema):
    serviceType: str
    reason: str
    reasonCode: str
    bookUrl: str


class RecommendationsOut(Schema):
    recommendations: list[RecommendationOut]


@router.get("/recommendations", response={200: RecommendationsOut, **ERROR_RESPONSES})
def recommendations(request: HttpRequest):
    """Up to three services to book next. `reasonCode` is `due` (due or overdue, not booked
    again), `on_offer` (this month's campaign covers it) or `booked_together` (customers who
    had one of your services also had it); they come in that order, then most urgent,
    biggest discount, highest lift. Never a service scheduled ahead or on an active plan.
    `bookUrl` opens booking with the service chosen and your promo code for it, if any.
    Each one returned is recorded as shown (once per service and day) for staff metrics."""
    return {
        "recommendations": [
            {
                "serviceType": r.service_type.name,
                "reason": r.reason,
                "reasonCode": r.reason_code,
                "bookUrl": r.book_url,
            }
            for r in shown_recommendations(customer=request.customer)
        ]
    }

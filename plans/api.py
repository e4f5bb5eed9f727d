"""Maintenance plans over JSON: the plans on offer and the customer's subscriptions,
subscribing, and skip, pause, resume, cancel. Errors follow retention.api: 400 bad
input (plan_not_found is 404), 404 for a subscription that is not the caller's."""

import datetime as dt
import json

from django.http import HttpRequest
from ninja import Router, Schema

from retention.api import ERROR_RESPONSES, ApiError, customer_auth
from retention.clock import business_today

from .actions import ACTIONS, PlanError, subscribe
from .selectors import SubscriptionView, customer_subscriptions, offered_plans

router = Router(tags=["plans"], auth=customer_auth)


class PlanOut(Schema):
    id: str
    name: str
    serviceType: str
    intervalDays: int
    discountPercent: int
    bonusPointsPercent: int


class SubscriptionOut(Schema):
    id: str
    planId: str
    planName: str
    status: str
    nextVisit: str | None
    nextVisitBooked: bool


class PlansOut(Schema):
    plans: list[PlanOut]
    subscriptions: list[SubscriptionOut]


class SubscribeIn(Schema):
    planId: str
    startDate: str


class SubscriptionResultOut(Schema):
    subscription: SubscriptionOut


def subscription_out(view: SubscriptionView) -> dict:
    return {
        "id": str(view.subscription.pk),
        "planId": str(view.plan.pk),
        "planName": view.plan.name,
        "status": view.status,
        "nextVisit": view.next_visit.isoformat() if view.next_visit else None,
        "nextVisitBooked": view.next_visit_booked,
    }


def _one(request, subscription_id) -> dict:
    views = customer_subscriptions(customer=request.customer, today=business_today())
    return {"subscription": next(subscription_out(v) for v in views if v.subscription.pk == subscription_id)}


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ApiError(400, "invalid_request", f"{field} must be a date, YYYY-MM-DD.") from None


def _api_error(exc: PlanError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


@router.get("/plans", response={200: PlansOut, **ERROR_RESPONSES})
def plans(request: HttpRequest):
    """The plans on offer and the customer's subscriptions, each with its next visit."""
    return {
        "plans": [
            {
                "id": str(plan.pk),
                "name": plan.name,
                "serviceType": plan.service_type.name,
                "intervalDays": plan.interval_days,
                "discountPercent": plan.discount_percent,
                "bonusPointsPercent": plan.bonus_points_percent,
            }
            for plan in offered_plans()
        ],
        "subscriptions": [
            subscription_out(view)
            for view in customer_subscriptions(customer=request.customer, today=business_today())
        ],
    }


@router.post("/plans/subscribe", response={200: SubscriptionResultOut, **ERROR_RESPONSES})
def subscribe_to_plan(request: HttpRequest, payload: SubscribeIn):
    """Subscribes to a plan; the first visit is booked for `startDate` (or the next day a
    provider is free) and a confirmation email sent."""
    start = _date(payload.startDate, "startDate")
    try:
        subscription = subscribe(customer=request.customer, plan_id=payload.planId, start_date=start, by=request.user)
    except PlanError as exc:
        raise _api_error(exc) from None
    return _one(request, subscription.pk)


@router.post("/subscriptions/{subscription_id}/{action}", response={200: SubscriptionResultOut, **ERROR_RESPONSES})
def change_subscription(request: HttpRequest, subscription_id: str, action: str):
    """`skip` (the next visit, or `{"visitDate": "YYYY-MM-DD"}`), `pause`, `resume` or
    `cancel` one of the customer's subscriptions. Repeating one changes nothing."""
    if action not in ACTIONS:
        raise ApiError(404, "not_found", f"No such action; use one of {', '.join(ACTIONS)}.")
    kwargs = {}
    if action == "skip" and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise ApiError(400, "invalid_request", "The body must be JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_request", "The body must be a JSON object.")
        if body.get("visitDate") is not None:
            kwargs["visit_date"] = _date(body["visitDate"], "visitDate")
    try:
        subscription = ACTIONS[action](
            customer=request.customer, subscription_id=subscription_id, by=request.user, **kwargs
        )
    except PlanError as exc:
        raise _api_error(exc) from None
    return _one(request, subscription.pk)

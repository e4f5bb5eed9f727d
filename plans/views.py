"""The customer's plans page, /customer-portal/plans/: the plans on offer, their
subscriptions with the next visit and history, and the forms that subscribe, skip,
pause, resume and cancel (each calls one plans.actions function)."""

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portal.access import customer_required
from retention.clock import business_today

from .actions import ACTIONS, PlanError, subscribe
from .models import SubscriptionChange
from .selectors import customer_subscriptions, offered_plans

DONE = {
    "skip": "Visit skipped; the one after is booked.",
    "pause": "Plan paused: upcoming visits are called off until you resume.",
    "resume": "Plan resumed.",
    "cancel": "Plan cancelled.",
}


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("plans:page")


@customer_required
def plans_page(request):
    today = business_today()
    subscriptions = customer_subscriptions(customer=request.customer, today=today)
    history = SubscriptionChange.objects.filter(subscription__customer=request.customer).select_related(
        "subscription__plan"
    )[:20]
    taken = {view.plan.pk for view in subscriptions if view.status != "cancelled"}
    return render(
        request,
        "plans/plans.html",
        {
            "subscriptions": subscriptions,
            "plans": [plan for plan in offered_plans() if plan.pk not in taken],
            "history": history,
            "today": today,
            "tomorrow": today + dt.timedelta(days=1),
        },
    )


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


@require_POST
@customer_required
def subscribe_view(request):
    start = _date(request.POST.get("start_date", ""))
    if start is None:
        messages.error(request, "Pick a date for the first visit.")
        return _back(request)
    try:
        subscription = subscribe(
            customer=request.customer, plan_id=request.POST.get("plan", ""), start_date=start, by=request.user
        )
    except PlanError as exc:
        messages.error(request, exc.message)
        return _back(request)
    messages.success(request, f"You're on the {subscription.plan.name} plan. Your first visit is booked.")
    return _back(request)


@require_POST
@customer_required
def change_view(request, subscription_id, action: str):
    if action not in ACTIONS:
        messages.error(request, "That isn't something a plan can do.")
        return _back(request)
    kwargs = {}
    if action == "skip" and request.POST.get("visit_date"):
        kwargs["visit_date"] = _date(request.POST["visit_date"])
        if kwargs["visit_date"] is None:
            messages.error(request, "That visit date isn't valid.")
            return _back(request)
    try:
        ACTIONS[action](customer=request.customer, subscription_id=subscription_id, by=request.user, **kwargs)
    except PlanError as exc:
        messages.error(request, exc.message)
        return _back(request)
    messages.success(request, DONE[action])
    return _back(request)

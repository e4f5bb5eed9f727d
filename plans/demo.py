"""Demo data for maintenance plans: two plans, and the demo customer on the weekly pool
plan with its next visit booked with the demo provider. Idempotent: plans are found by
name, the subscription by customer and plan, the visit's job by a fixed id."""

import datetime as dt


from retention.clock import start_of_business_day
from retention.demo import demo_job
from retention.models import ServiceType

from .models import Plan, PlanVisit, Subscription, SubscriptionChange
from .services import visit_price

PLANS = [
    # name, service slug, interval days, discount %, bonus points %, description
    ("Weekly pool care", "pool-service", 7, 10, 20, "Your pool cleaned and balanced every week."),
    ("Quarterly pest control", "pest-control", 90, 15, 10, "A pest treatment every season, before they move in."),
]


def seed_plans(types: dict[str, ServiceType], people: dict, *, today: dt.date) -> None:
    plans = {}
    for name, slug, interval, discount, bonus, description in PLANS:
        plans[slug], _ = Plan.objects.get_or_create(
            name=name,
            defaults={
                "service_type": types[slug], "interval_days": interval, "discount_percent": discount,
                "bonus_points_percent": bonus, "description": description,
            },
        )
    customer, provider = people["customer"], people["provider"]
    plan = plans["pool-service"]
    if Subscription.objects.filter(customer=customer, plan=plan).exclude(status="cancelled").exists():
        return
    first = today + dt.timedelta(days=4)
    subscription = Subscription.objects.create(customer=customer, plan=plan, start_date=first)
    service = plan.service_type
    job = demo_job(
        "plans/pool-first-visit",
        customer=customer,
        provider=provider,
        service_type=service,
        scheduled_for=first,
        price=service.base_price,
        amount_paid=visit_price(list_price=service.base_price, discount_percent=plan.discount_percent),
        created_at=start_of_business_day(today - dt.timedelta(days=1)) + dt.timedelta(hours=10),
    )
    PlanVisit.objects.create(subscription=subscription, job=job, scheduled_for=first)
    SubscriptionChange.objects.create(
        subscription=subscription, action=SubscriptionChange.Action.SUBSCRIBED, changed_by=customer.user,
        note=f"First visit {first.isoformat()}",
    )

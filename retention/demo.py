"""Demo data for the core: service types, the demo people and the demo history.

Idempotent: rows are found by natural keys or fixed UUIDs, never duplicated.
"""

import datetime as dt
import uuid
from decimal import Decimal

from .clock import start_of_business_day
from .models import Customer, Job, Provider, ServiceType, User

DEMO_PASSWORD = "demo-password"
DEMO_NAMESPACE = uuid.UUID("6f1c1d8e-7e53-4a53-9d2f-2b1b7f0c9a10")

SERVICE_TYPES = [
    # name, slug, frequency in days, base price
    ("Lawn Care", "lawn-care", 14, Decimal("65.00")),
    ("Pool Service", "pool-service", 7, Decimal("95.00")),
    ("Pest Control", "pest-control", 30, Decimal("120.00")),
    ("HVAC", "hvac", 180, Decimal("189.00")),
]


def seed_service_types() -> dict[str, ServiceType]:
    types = {}
    for name, slug, frequency, price in SERVICE_TYPES:
        service, _ = ServiceType.objects.get_or_create(
            slug=slug, defaults={"name": name, "frequency_days": frequency, "base_price": price}
        )
        types[slug] = service
    return types


def ensure_user(email: str, name: str, **extra) -> tuple[User, bool]:
    user = User.objects.filter(email=email).first()
    if user:
        return user, False
    return User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name, **extra), True


def seed_people(types: dict[str, ServiceType]) -> dict:
    admin_user, _ = ensure_user("admin@example.com", "Ada Admin", is_staff=True, is_superuser=True)
    customer_user, _ = ensure_user("demo@example.com", "Dana Demo")
    customer, _ = Customer.objects.get_or_create(user=customer_user, defaults={"phone": "555-0100"})
    neighbour_user, _ = ensure_user("neighbor@example.com", "Nico Neighbor")
    neighbour, _ = Customer.objects.get_or_create(user=neighbour_user, defaults={"phone": "555-0101"})
    provider_user, _ = ensure_user("provider@example.com", "Pat Provider")
    provider, created = Provider.objects.get_or_create(
        user=provider_user, defaults={"business_name": "GreenLeaf Home Services", "phone": "555-0199"}
    )
    if created:
        provider.service_types.set(types.values())
    return {"admin": admin_user, "customer": customer, "neighbour": neighbour, "provider": provider}


def demo_job(key: str, **fields) -> Job:
    """A demo job with a fixed id, so re-running the seed finds it again."""
    job_id = uuid.uuid5(DEMO_NAMESPACE, key)
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        job = Job.objects.create(pk=job_id, **fields)
    return job


def completed_days_ago(service_type: ServiceType, days: int, *, today: dt.date) -> dict:
    day = today - dt.timedelta(days=days)
    completed_at = start_of_business_day(day) + dt.timedelta(hours=14)
    return {
        "status": Job.Status.COMPLETED,
        "scheduled_for": day,
        "created_at": completed_at - dt.timedelta(days=7),
        "completed_at": completed_at,
        "next_due_date": service_type.next_due_date(day),
    }


def seed_history(types: dict[str, ServiceType], people: dict, *, today: dt.date) -> list[Job]:
    """The demo customer's past jobs, chosen so every dashboard widget has something:
    a lawn service due in two days, HVAC long ago, pest control a while back."""
    customer, neighbour, provider = people["customer"], people["neighbour"], people["provider"]
    history = [
        ("history/hvac", "hvac", 400, Decimal("189.00")),
        ("history/pest", "pest-control", 75, Decimal("120.00")),
        ("history/pool", "pool-service", 45, Decimal("95.00")),
        ("history/lawn-1", "lawn-care", 26, Decimal("65.00")),
        ("history/lawn-2", "lawn-care", 12, Decimal("65.00")),
    ]
    completed = []
    for key, slug, days, amount in history:
        service = types[slug]
        completed.append(
            demo_job(
                key,
                customer=customer,
                provider=provider,
                service_type=service,
                price=service.base_price,
                amount_paid=amount,
                **completed_days_ago(service, days, today=today),
            )
        )
    for key, who, slug, days_ahead in [
        ("scheduled/neighbor-pool", neighbour, "pool-service", 2),
        ("scheduled/neighbor-hvac", neighbour, "hvac", 5),
    ]:
        service = types[slug]
        demo_job(
            key,
            customer=who,
            provider=provider,
            service_type=service,
            scheduled_for=today + dt.timedelta(days=days_ahead),
            price=service.base_price,
            amount_paid=service.base_price,
            created_at=start_of_business_day(today - dt.timedelta(days=1)) + dt.timedelta(hours=10),
        )
    return completed

"""Demo data for reminders and win-back: a few quiet customers, one per churn stage,
so the staff churn view has something in each filter. The demo customer's lawn care
due in two days (retention.demo) drives the ServiceDueAlert.

Idempotent: people are found by email and jobs by fixed ids.
"""

import datetime as dt

from retention.demo import completed_days_ago, demo_job, ensure_user
from retention.models import Customer, ServiceType

# email, name, service slug, days since the last (completed) job was done
QUIET_CUSTOMERS = [
    ("cooling@example.com", "Cora Cooling", "lawn-care", 45),
    ("atrisk@example.com", "Rory Risk", "pool-service", 75),
    ("quiet@example.com", "Quinn Quiet", "pest-control", 120),
]


def seed_reminders(types: dict[str, ServiceType], people: dict, *, today: dt.date) -> None:
    provider = people["provider"]
    for email, name, slug, days in QUIET_CUSTOMERS:
        user, _ = ensure_user(email, name)
        customer, _ = Customer.objects.get_or_create(user=user, defaults={"phone": "555-0150"})
        service = types[slug]
        dates = completed_days_ago(service, days, today=today)
        # Booked the day it was done, so "days since last booking" reads as the stage says.
        dates["created_at"] = dates["completed_at"]
        demo_job(
            f"reminders/{email}",
            customer=customer,
            provider=provider,
            service_type=service,
            price=service.base_price,
            amount_paid=service.base_price,
            **dates,
        )

"""Demo data for recommendations: a few neighbours whose completed jobs pair lawn care
with each other service, so "booked together" has something to say, then the
co-occurrence table computed from every completed job. With the demo customer's own
history (retention.demo: lawn care due in two days, the rest long ago) and the
running campaign, the widget shows one recommendation of each reason in any month.

Idempotent: people are found by email, jobs by fixed ids, and the table is replaced.
"""

import datetime as dt

from django.conf import settings

from retention.demo import completed_days_ago, demo_job, ensure_user
from retention.models import Customer, ServiceType

from .cooccurrence import refresh_service_pairs

# email, name, service slugs done (each once, a while ago)
NEIGHBOURS = [
    ("lena@example.com", "Lena Lawn", ["lawn-care", "pool-service"]),
    ("paul@example.com", "Paul Pool", ["lawn-care", "pool-service"]),
    ("petra@example.com", "Petra Pest", ["lawn-care", "pest-control"]),
    ("pia@example.com", "Pia Pest", ["lawn-care", "pest-control"]),
    ("hank@example.com", "Hank Heat", ["lawn-care", "hvac"]),
    ("hal@example.com", "Hal Heat", ["lawn-care", "hvac"]),
    ("opal@example.com", "Opal Only", ["pool-service"]),
    ("otto@example.com", "Otto Only", ["pool-service"]),
]


def seed_recommendations(types: dict[str, ServiceType], people: dict, *, today: dt.date) -> None:
    provider = people["provider"]
    for email, name, slugs in NEIGHBOURS:
        user, _ = ensure_user(email, name)
        customer, _ = Customer.objects.get_or_create(user=user, defaults={"phone": "555-0160"})
        for slug in slugs:
            service = types[slug]
            demo_job(
                f"recommendations/{email}/{slug}",
                customer=customer,
                provider=provider,
                service_type=service,
                price=service.base_price,
                amount_paid=service.base_price,
                **completed_days_ago(service, 200, today=today),
            )
    refresh_service_pairs(as_of=today, min_support=settings.RECOMMENDATION_MIN_SUPPORT)

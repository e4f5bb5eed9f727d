"""Demo bundles: two whose months do not overlap (one wraps the year), so the demo
customer sees exactly one bundle whatever the month. Idempotent: found by name."""

from retention.models import ServiceType

from .models import Bundle

BUNDLES = [
    # name, description, discount %, start month, end month, service slugs
    (
        "Cozy Home",
        "Heating checked and pests kept out for the cold months, in one visit day.",
        10,
        9,
        5,
        ["hvac", "pest-control"],
    ),
    (
        "Summer Yard and Pool",
        "A cut lawn and a clean pool for the summer, booked together.",
        15,
        6,
        8,
        ["lawn-care", "pool-service"],
    ),
]


def seed_bundles(types: dict[str, ServiceType]) -> list[Bundle]:
    bundles = []
    for name, description, discount, start, end, slugs in BUNDLES:
        bundle = Bundle.objects.filter(name=name).first()
        if bundle is None:
            bundle = Bundle.objects.create(
                name=name,
                description=description,
                discount_percent=discount,
                start_month=start,
                end_month=end,
            )
            bundle.service_types.set(types[slug] for slug in slugs)
        bundles.append(bundle)
    return bundles

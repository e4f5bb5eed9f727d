"""Which bundles fit a customer now, and what they cost: the widget, the bundle page
and GET /api/customer/bundles all read these."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from campaigns.selectors import covering_month
from plans.services import visit_price
from retention.clock import business_today
from retention.compiled import CompiledQuery, columns
from retention.models import Customer, Job, ServiceType
from retention.models.jobs import scheduled_ahead

from .models import Bundle

WIDGET_LIMIT = 2


@dataclass(frozen=True)
class BundleOffer:
    bundle: Bundle
    service_types: list[ServiceType]  # each with `scheduled`: the customer has it scheduled ahead

    @property
    def regular_price(self) -> Decimal:
        return sum((s.base_price for s in self.service_types), Decimal("0.00"))

    @property
    def bundle_price(self) -> Decimal:
        """What the bundle's jobs cost together: each service's price less the bundle's
        percent, rounded as book_job rounds it (visit_price), so the jobs add up to this."""
        percent = self.bundle.discount_percent
        prices = (visit_price(list_price=s.base_price, discount_percent=percent) for s in self.service_types)
        return sum(prices, Decimal("0.00"))

    @property
    def saving(self) -> Decimal:
        return self.regular_price - self.bundle_price

    @property
    def scheduled_names(self) -> list[str]:
        return [s.name for s in self.service_types if s.scheduled]


def in_season(on: dt.date) -> Q:
    """Bundles offered in `on`'s month: all-year ones, and those whose months (which
    may wrap the year) cover it, by the campaigns' one rule."""
    return Q(start_month__isnull=True) | covering_month(on.month)


BUNDLE_COLUMNS = columns(Bundle)
SERVICE_COLUMNS = columns(ServiceType)


def offers_query(*, id: int, day: dt.date) -> QuerySet:
    """One row per service type of each bundle offered in `day`'s month: the bundle's
    fields, the service type's, and whether customer `id` has it scheduled ahead;
    bundles by name, each one's services by name."""
    scheduled = Job.objects.filter(scheduled_ahead(day), customer_id=id, service_type=OuterRef("service_types__pk"))
    return (
        Bundle.objects.filter(in_season(day), active=True)
        .annotate(scheduled=Exists(scheduled))
        .order_by("name", "pk", "service_types__name", "service_types__pk")
        .values_list(*BUNDLE_COLUMNS, *(f"service_types__{name}" for name in SERVICE_COLUMNS), "scheduled")
    )


# Compiled once per process (retention.compiled): the dashboard, the bundle page and
# the API each read it on every request.
OFFERS = CompiledQuery(offers_query)


def bundle_offers(*, customer: Customer, on: dt.date | None = None) -> list[BundleOffer]:
    """The bundles that fit the customer now (PRODUCT.md): offered this month, with two
    or more service types, and not every one of their services already scheduled ahead.
    Biggest saving first. One query (offers_query)."""
    on = on or business_today()
    bundles: dict[int, BundleOffer] = {}
    width = len(BUNDLE_COLUMNS)
    for row in OFFERS.rows(id=customer.pk, day=on):
        bundle = Bundle.from_db(connection.alias, BUNDLE_COLUMNS, row[:width])
        offer = bundles.setdefault(bundle.pk, BundleOffer(bundle=bundle, service_types=[]))
        if row[width] is None:  # a bundle with no service types: never offered
            continue
        service = ServiceType.from_db(connection.alias, SERVICE_COLUMNS, row[width:-1])
        service.scheduled = row[-1]
        offer.service_types.append(service)
    offers = [
        o for o in bundles.values()
        if len(o.service_types) >= 2 and not all(s.scheduled for s in o.service_types)
    ]
    return sorted(offers, key=lambda o: (-o.saving, o.bundle.name))


def bundle_offer(
    *, customer: Customer, bundle_id: int, on: dt.date | None = None
) -> BundleOffer | None:
    """One bundle if it is offered now, else None (the page and the API answer 404)."""
    return next(
        (o for o in bundle_offers(customer=customer, on=on) if o.bundle.pk == bundle_id), None
    )


def bundles_widget(customer: Customer) -> list[BundleOffer] | None:
    """ServiceBundlesWidget: up to two bundles that fit now; None (not shown) when none do."""
    return bundle_offers(customer=customer)[:WIDGET_LIMIT] or None

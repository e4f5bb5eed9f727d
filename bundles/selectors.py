"""Which bundles fit a customer now, and what they cost: the widget, the bundle page
and GET /api/customer/bundles all read these."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from campaigns.selectors import covering_month
from plans.services import visit_price
from retention.clock import business_today
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


def offered_bundles(*, on: dt.date) -> QuerySet:
    """Active, in season and with two or more service types."""
    return (
        Bundle.objects.filter(in_season(on), active=True)
        .annotate(services_count=Count("service_types"))
        .filter(services_count__gte=2)
    )


def bundle_offers(*, customer: Customer, on: dt.date | None = None) -> list[BundleOffer]:
    """The bundles that fit the customer now (PRODUCT.md): offered this month and not
    every one of their services already scheduled ahead. Biggest saving first. Two queries."""
    on = on or business_today()
    services = ServiceType.objects.order_by("name").annotate(
        scheduled=Exists(
            Job.objects.filter(scheduled_ahead(on), customer=customer, service_type=OuterRef("pk"))
        )
    )
    bundles = offered_bundles(on=on).prefetch_related(Prefetch("service_types", queryset=services))
    offers = [BundleOffer(bundle=b, service_types=list(b.service_types.all())) for b in bundles]
    offers = [o for o in offers if not all(s.scheduled for s in o.service_types)]
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

"""The metrics page's recommendations section: per reason, the customers shown a
recommendation in the period and those who booked that service within 14 days of
being shown it. One query."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Value

from recommendations.models import Reason, RecommendationShown
from retention.models import Job

from .periods import Period
from .selectors import BOOKED_WITHIN, _rate


@dataclass
class ReasonConversion:
    reason: str  # its label
    customers: int  # shown a recommendation with this reason in the period
    customers_booked: int  # ... and booked that service (not cancelled) within 14 days of it

    @property
    def share_booked(self) -> float | None:
        return _rate(self.customers_booked, self.customers)


def booked_after_shown(period: Period) -> Exists:
    """The customer booked the shown service (a job not cancelled) within 14 days after
    it was first shown that day."""
    return Exists(
        Job.objects.filter(
            # Bounds the jobs looked at to the period and the 14 days after (created_at index).
            created_at__gte=period.starts_at,
            created_at__lt=period.ends_at + BOOKED_WITHIN,
            customer=OuterRef("customer"),
            service_type=OuterRef("service_type"),
            created_at__gt=OuterRef("shown_at"),
            created_at__lte=OuterRef("shown_at") + Value(BOOKED_WITHIN),
        ).exclude(status=Job.Status.CANCELLED)
    )


def recommendation_conversion(period: Period) -> list[ReasonConversion]:
    """One row per reason, in the widget's order, zeros included."""
    rows = {
        row["reason"]: row
        for row in RecommendationShown.objects.filter(
            shown_on__gte=period.start, shown_on__lte=period.end
        )
        .values("reason")
        .annotate(
            customers=Count("customer", distinct=True),
            customers_booked=Count("customer", distinct=True, filter=Q(booked_after_shown(period))),
        )
        .order_by()
    }
    return [
        ReasonConversion(
            reason=label,
            customers=rows.get(value, {}).get("customers", 0),
            customers_booked=rows.get(value, {}).get("customers_booked", 0),
        )
        for value, label in Reason.choices
    ]

"""What the RecommendationsWidget and GET /api/customer/recommendations show: up to
three services to book next, each with a reason a person can read.

Reasons, in this order: `due` (due or overdue and not booked again: the dashboard
alert's own list), `on_offer` (the campaign running this month covers it), then
`booked_together` (customers who had one of your services also had this one, lift
over 1, from the nightly co-occurrence table). Within a reason: most urgent first,
biggest discount first, highest lift first. Never a service scheduled ahead or on an
active maintenance plan; `on_offer` and `booked_together` also leave out a service
done recently enough that it is not due yet.
"""

import datetime as dt
from collections import namedtuple
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.fields import BooleanField
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.selectors import covering_month
from reminders.selectors import ALERT_AHEAD_DAYS, DueService, due_services
from retention.clock import business_today
from retention.compiled import CompiledQuery
from retention.links import booking_url
from retention.models import Customer, Job, PromoCode, ServiceType
from retention.models.jobs import scheduled_ahead

from .models import Reason, RecommendationShown, ServicePair

LIMIT = 3
REASON_ORDER = [Reason.DUE, Reason.ON_OFFER, Reason.BOOKED_TOGETHER]


@dataclass(frozen=True)
class Recommendation:
    service_type: ServiceType
    reason_code: str  # a Reason value
    reason: str  # in words, for the customer
    book_url: str
    rank: tuple = ()  # within its reason: urgency, discount or lift
    shown_today: bool = False  # recorded as shown to this customer today already


def on_active_plan(*, customer: Customer | int):
    """Whether the customer's active maintenance plan covers the outer service type.
    Plans are their own app (plans/), built alongside this one: when it is not
    installed nobody is on a plan. Looked up by name so this app does not import it;
    the names are PRODUCT.md's (a subscription's `status`, its plan's service type)."""
    if not apps.is_installed("plans"):
        return Value(False, output_field=BooleanField())
    subscription = apps.get_model("plans", "Subscription")
    return Exists(
        subscription.objects.filter(
            customer=customer, status="active", plan__service_type=OuterRef("pk")
        )
    )


def _covers_outer_service() -> Q:
    """Rows (campaigns, promo codes) limited to no service type or to the outer one."""
    return Q(service_types__isnull=True) | Q(service_types=OuterRef("pk"))


CANDIDATE_FIELDS = (
    "pk", "name", "slug", "scheduled", "on_plan", "not_due_yet",
    "offer_percent", "offer_title", "lift", "had_with", "code", "shown_today",
)


def candidates_query(*, id: int, day: dt.date, now: dt.datetime):
    """Every service type with what the reasons need, for customer `id` on `day`, in
    one query (CANDIDATE_FIELDS)."""
    offer = Campaign.objects.filter(
        covering_month(day.month), _covers_outer_service(), active=True
    ).order_by("-discount_percent")
    code = PromoCode.objects.filter(
        _covers_outer_service(),
        customer_id=id,
        used_at__isnull=True,
        expires_at__gt=now,
    ).order_by("expires_at", "code")
    had = Job.objects.filter(customer_id=id, status=Job.Status.COMPLETED).values("service_type")
    together = ServicePair.objects.filter(
        recommended=OuterRef("pk"), service_type__in=had, lift__gt=1
    ).order_by("-lift", "service_type__name")
    mine = Job.objects.filter(customer_id=id, service_type=OuterRef("pk"))
    return (
        ServiceType.objects.annotate(
            scheduled=Exists(mine.filter(scheduled_ahead(day))),
            on_plan=on_active_plan(customer=id),
            # Done recently enough that it is not due within the alert's week.
            not_due_yet=Exists(
                mine.filter(
                    status=Job.Status.COMPLETED,
                    next_due_date__gt=day + dt.timedelta(days=ALERT_AHEAD_DAYS),
                )
            ),
            offer_percent=Subquery(offer.values("discount_percent")[:1]),
            offer_title=Subquery(offer.values("title")[:1]),
            lift=Subquery(together.values("lift")[:1]),
            had_with=Subquery(together.values("service_type__name")[:1]),
            code=Subquery(code.values("code")[:1]),
            # Recorded as shown on `day` already: not recorded again (record_shown).
            shown_today=Exists(
                RecommendationShown.objects.filter(customer_id=id, service_type=OuterRef("pk"), shown_on=day)
            ),
        )
        .order_by("name")
        .values_list(*CANDIDATE_FIELDS)
    )


# Compiled to SQL once per process (retention.compiled): building this query's eight
# subqueries was most of the widget's time, on every dashboard and API request.
CANDIDATES = CompiledQuery(candidates_query, uses_now=True)


def recommendations_for(
    *,
    customer: Customer,
    today: dt.date | None = None,
    limit: int = LIMIT,
    due: list[DueService] | None = None,
) -> list[Recommendation]:
    """Up to `limit` recommendations in reason order. Two queries; one when `due` (the
    customer's due_services for `today`, as the dashboard's alert has read them) is given."""
    today = today or business_today()
    if due is None:
        due = due_services(customer=customer, today=today)
    due_by_service = {d.service_type.pk: d for d in due}
    found = []
    for row in CANDIDATES.rows(id=customer.pk, day=today):
        candidate = _Candidate(*row)
        if candidate.scheduled or candidate.on_plan:
            continue
        if candidate.pk in due_by_service:
            days = due_by_service[candidate.pk].days_until_due
            when = due_by_service[candidate.pk].when
            reason_code, rank = Reason.DUE, days
            reason = f"Due {when}" if days >= 0 else when[0].upper() + when[1:]
        elif candidate.not_due_yet:
            continue
        elif candidate.offer_percent:
            reason_code, rank = Reason.ON_OFFER, -candidate.offer_percent
            reason = f"On offer: {candidate.offer_percent}% off with {candidate.offer_title}"
        elif candidate.lift:
            reason_code, rank = Reason.BOOKED_TOGETHER, -candidate.lift
            reason = f"Customers who had {candidate.had_with} also had {candidate.name}"
        else:
            continue
        found.append(
            Recommendation(
                ServiceType(pk=candidate.pk, name=candidate.name, slug=candidate.slug),
                reason_code,
                reason,
                booking_url(service=candidate.slug, code=candidate.code),
                (rank, candidate.name),
                candidate.shown_today,
            )
        )
    found.sort(key=lambda r: (REASON_ORDER.index(r.reason_code), r.rank))
    return found[:limit]


_Candidate = namedtuple("_Candidate", CANDIDATE_FIELDS)


def record_shown(
    *, customer: Customer, recommendations: list[Recommendation], today: dt.date | None = None
) -> None:
    """One INSERT ... ON CONFLICT DO NOTHING for the lot: the first showing of a service
    to a customer each day is kept, later ones change nothing. No query when there is
    nothing new to record: none shown, or each one already recorded today as far as the
    query that found them could tell (`shown_today`); the conflict clause settles a race
    with another request."""
    recommendations = [r for r in recommendations if not r.shown_today]
    if not recommendations:
        return
    today = today or business_today()
    now = timezone.now()
    RecommendationShown.objects.bulk_create(
        [
            RecommendationShown(
                customer=customer,
                service_type=r.service_type,
                reason=r.reason_code,
                shown_on=today,
                shown_at=now,
            )
            for r in recommendations
        ],
        ignore_conflicts=True,
    )


def shown_recommendations(
    *, customer: Customer, due: list[DueService] | None = None
) -> list[Recommendation]:
    """What the widget and the API show, recorded as shown: three queries at most (two
    with `due`, as recommendations_for)."""
    today = business_today()
    found = recommendations_for(customer=customer, today=today, due=due)
    record_shown(customer=customer, recommendations=found, today=today)
    return found


@dataclass(frozen=True)
class RecommendationsWidget:
    recommendations: list[Recommendation]  # may be empty: the widget says so


def recommendations_widget(
    customer: Customer, *, due: list[DueService] | None = None
) -> RecommendationsWidget:
    """RecommendationsWidget; always shown, with an empty state when nothing fits. `due`:
    the customer's due services today, when the caller has read them already."""
    return RecommendationsWidget(recommendations=shown_recommendations(customer=customer, due=due))

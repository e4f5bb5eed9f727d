"""What a customer (or staff) does with a maintenance plan: subscribe, skip a visit,
pause, resume, cancel. One function each, called by the plans page, the JSON API and
admin. Each runs in one transaction holding the subscription's row lock, changes
nothing when it refuses (PlanError), and repeating it changes nothing more.

Above actions/ in the dependency order: a visit is booked through actions.jobs.book_job
(at the plan's discount, with a provider free that day) and called off through cancel_job.
"""

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from actions.jobs import BookingError, book_job, cancel_job
from outbox.compose import queue_email
from outbox.consent import Kind
from retention.clock import business_today
from retention.models import Customer, Job, User
from retention.notifications import notify

from . import visits
from .models import PLAN_NOTICE, Plan, PlanVisit, Subscription, SubscriptionChange
from .services import free_provider, next_visit_date, visit_dates_to_book

PLANS_PATH = visits.PLANS_PATH
# How far ahead a first visit may be chosen.
LATEST_START_DAYS = 365

Status = Subscription.Status
Action = SubscriptionChange.Action


class PlanError(Exception):
    """A plan step that cannot happen; `code` is the API's error code and the message
    is safe to show the customer. `status` is the HTTP status it answers."""

    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class PlanNotFound(PlanError):
    status = 404


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _record(subscription: Subscription, action: str, by: User | None, note: str = "") -> None:
    SubscriptionChange.objects.create(subscription=subscription, action=action, changed_by=by, note=note)


def _book_visit(
    *, subscription: Subscription, plan: Plan, customer: Customer, plan_date: dt.date, email: bool = True
) -> PlanVisit | None:
    """Books the plan's visit for `plan_date` (on that day, or the next day a provider
    of the service is free) and, with `email`, queues its email; None if it is booked
    already."""
    wanted = max(plan_date, business_today())
    found = free_provider(service_type=plan.service_type, day=wanted)
    if found is None:
        raise PlanError(
            "no_provider", f"No provider of {plan.service_type.name.lower()} is free around {wanted:%B %-d}."
        )
    provider, day = found
    try:
        with transaction.atomic():  # a visit booked for this date at the same moment: keep that one
            job = book_job(
                customer=customer,
                service_type=plan.service_type,
                scheduled_for=day,
                provider=provider,
                discount_percent=plan.discount_percent,
            )
            visit = PlanVisit.objects.create(subscription=subscription, job=job, scheduled_for=plan_date)
    except IntegrityError:
        return None
    except BookingError as exc:
        raise PlanError("no_provider", str(exc)) from None
    if not email:
        return visit
    queue_email(
        template="plan_visit_booked",
        customer=customer,
        kind=Kind.TRANSACTIONAL,
        idempotency_key=f"plan_visit/{visit.pk}",
        context=visit_email_context(plan=plan, job=job),
    )
    return visit


def visit_email_context(*, plan: Plan, job: Job) -> dict:
    return visits.visit_email_context(
        plan_name=plan.name, interval_days=plan.interval_days, service=plan.service_type.name,
        day=job.scheduled_for, provider=job.provider.business_name, price=job.amount_paid,
    )


def subscribe(*, customer: Customer, plan_id, start_date: dt.date, by: User | None = None) -> Subscription:
    """Subscribes the customer to an active plan and books the first visit on
    `start_date` (or the next day a provider is free), with one confirmation email that
    names the first visit."""
    plan = Plan.objects.filter(pk=_uuid(plan_id), active=True).select_related("service_type").first()
    if plan is None or _uuid(plan_id) is None:
        raise PlanNotFound("plan_not_found", "That plan isn't available.")
    today = business_today()
    if start_date < today:
        raise PlanError("invalid_date", "Pick today or a later date for the first visit.")
    if start_date > today + dt.timedelta(days=LATEST_START_DAYS):
        raise PlanError("invalid_date", "Pick a first visit within the next year.")
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()  # one subscribe at a time
        if Subscription.objects.filter(customer=customer, plan=plan).exclude(status=Status.CANCELLED).exists():
            raise PlanError("already_subscribed", f"You're already on the {plan.name} plan.")
        subscription = Subscription.objects.create(customer=customer, plan=plan, start_date=start_date)
        _record(subscription, Action.SUBSCRIBED, by, note=f"First visit {start_date.isoformat()}")
        # One email: the confirmation below names the first visit.
        visit = _book_visit(
            subscription=subscription, plan=plan, customer=customer, plan_date=start_date, email=False
        )
        job = visit.job
        notify(
            customer=customer,
            kind=PLAN_NOTICE,
            title=f"You're on the {plan.name} plan",
            message=f"First visit {job.scheduled_for:%B} {job.scheduled_for.day} with {job.provider.business_name}.",
            action_url=PLANS_PATH,
        )
        queue_email(
            template="plan_subscribed",
            customer=customer,
            kind=Kind.TRANSACTIONAL,
            idempotency_key=f"plan_subscribed/{subscription.pk}",
            context=visit_email_context(plan=plan, job=job),
        )
    return subscription


def _locked(*, customer: Customer, subscription_id) -> Subscription:
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan__service_type")
        .filter(pk=_uuid(subscription_id), customer=customer)
        .first()
        if _uuid(subscription_id)
        else None
    )
    if subscription is None:
        raise PlanNotFound("subscription_not_found", "No such subscription.")
    return subscription


def _call_off_future_visits(subscription: Subscription) -> int:
    """Cancels the jobs of the subscription's visits still to come and releases their
    dates; returns how many."""
    visits = list(
        subscription.visits.filter(
            status=PlanVisit.Status.BOOKED, job__status=Job.Status.SCHEDULED, job__scheduled_for__gte=business_today()
        ).select_related("job")
    )
    for visit in visits:
        cancel_job(job=visit.job)
    PlanVisit.objects.filter(pk__in=[v.pk for v in visits]).update(status=PlanVisit.Status.CALLED_OFF)
    return len(visits)


def _last_visit_date(subscription: Subscription) -> dt.date | None:
    return (
        subscription.visits.exclude(status=PlanVisit.Status.CALLED_OFF)
        .order_by("-scheduled_for")
        .values_list("scheduled_for", flat=True)
        .first()
    )


def skip_visit(
    *, customer: Customer, subscription_id, visit_date: dt.date | None = None, by: User | None = None
) -> Subscription:
    """Skips the next visit (or the one on `visit_date`, as shown to the customer): its
    job is cancelled, its date stays taken, and the visit after it is booked. Skipping
    a visit already skipped changes nothing."""
    with transaction.atomic():
        subscription = _locked(customer=customer, subscription_id=subscription_id)
        if subscription.status != Status.ACTIVE:
            raise PlanError("invalid_state", "Only an active plan's visits can be skipped.")
        plan, today = subscription.plan, business_today()
        upcoming = subscription.visits.filter(
            status=PlanVisit.Status.BOOKED, job__status=Job.Status.SCHEDULED, job__scheduled_for__gte=today
        ).select_related("job")
        if visit_date is not None:
            shown_on = Q(job__scheduled_for=visit_date) | Q(job__isnull=True, scheduled_for=visit_date)
            if subscription.visits.filter(shown_on, status=PlanVisit.Status.SKIPPED).exists():
                return subscription  # skipped already
            visit = upcoming.filter(job__scheduled_for=visit_date).first()
            if visit is None and visit_date != _next_date(subscription, today):
                raise PlanError("invalid_date", f"There is no visit on {visit_date.isoformat()} to skip.")
        else:
            visit = upcoming.order_by("job__scheduled_for").first()
        if visit is not None:
            cancel_job(job=visit.job)
            visit.status = PlanVisit.Status.SKIPPED
            visit.save(update_fields=["status"])
            skipped_date = visit.scheduled_for
        else:  # the next visit is not booked yet: its date is skipped before it is
            skipped_date = _next_date(subscription, today)
            PlanVisit.objects.create(subscription=subscription, scheduled_for=skipped_date, status=PlanVisit.Status.SKIPPED)
        _record(subscription, Action.SKIPPED, by, note=f"Visit of {skipped_date.isoformat()} skipped")
        following = skipped_date + dt.timedelta(days=plan.interval_days)
        if not subscription.visits.filter(scheduled_for=following).exclude(status=PlanVisit.Status.CALLED_OFF).exists():
            _book_visit(subscription=subscription, plan=plan, customer=customer, plan_date=following)
    return subscription


def _next_date(subscription: Subscription, today: dt.date) -> dt.date:
    """The plan's next visit date after the last one kept (booked, done or skipped)."""
    return next_visit_date(
        last_visit=_last_visit_date(subscription), start_date=subscription.start_date,
        interval_days=subscription.plan.interval_days, as_of=today,
    )


def pause(*, customer: Customer, subscription_id, by: User | None = None) -> Subscription:
    """Pauses an active plan: its future visits are called off and nothing is booked
    until it is resumed. Pausing a paused plan changes nothing."""
    with transaction.atomic():
        subscription = _locked(customer=customer, subscription_id=subscription_id)
        if subscription.status == Status.PAUSED:
            return subscription
        if subscription.status != Status.ACTIVE:
            raise PlanError("invalid_state", "A cancelled plan cannot be paused.")
        called_off = _call_off_future_visits(subscription)
        subscription.status = Status.PAUSED
        subscription.save(update_fields=["status"])
        _record(subscription, Action.PAUSED, by, note=f"{called_off} upcoming visit(s) called off")
    return subscription


def resume(*, customer: Customer, subscription_id, by: User | None = None) -> Subscription:
    """Resumes a paused plan and books the visits due within PLAN_BOOK_AHEAD_DAYS
    (the next one follows the last kept visit by the interval, moved past days gone).
    Resuming an active plan changes nothing."""
    with transaction.atomic():
        subscription = _locked(customer=customer, subscription_id=subscription_id)
        if subscription.status == Status.ACTIVE:
            return subscription
        if subscription.status != Status.PAUSED:
            raise PlanError("invalid_state", "A cancelled plan cannot be resumed; subscribe again.")
        subscription.status = Status.ACTIVE
        subscription.save(update_fields=["status"])
        _record(subscription, Action.RESUMED, by)
        for plan_date in visit_dates_to_book(
            last_visit=_last_visit_date(subscription), start_date=subscription.start_date,
            interval_days=subscription.plan.interval_days, as_of=business_today(),
        ):
            _book_visit(subscription=subscription, plan=subscription.plan, customer=customer, plan_date=plan_date)
    return subscription


def cancel_subscription(*, customer: Customer, subscription_id, by: User | None = None) -> Subscription:
    """Ends a plan: its future visits are called off. Cancelling again changes nothing."""
    with transaction.atomic():
        subscription = _locked(customer=customer, subscription_id=subscription_id)
        if subscription.status == Status.CANCELLED:
            return subscription
        called_off = _call_off_future_visits(subscription)
        subscription.status = Status.CANCELLED
        subscription.cancelled_at = timezone.now()
        subscription.save(update_fields=["status", "cancelled_at"])
        _record(subscription, Action.CANCELLED, by, note=f"{called_off} upcoming visit(s) called off")
    return subscription


ACTIONS = {"skip": skip_visit, "pause": pause, "resume": resume, "cancel": cancel_subscription}

"""What the customer dashboard shows, gathered in a fixed number of queries.

Each widget's data comes from the app that owns it; a widget whose function
returns None is not shown.
"""

import datetime as dt

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, Subquery, Sum, Window

from bundles.selectors import bundles_widget
from campaigns.selectors import active_promo_codes, seasonal_offer
from loyalty.selectors import loyalty_summary
from plans.models import Plan, PlanVisit, Subscription
from plans.selectors import subscription_widget
from recommendations.selectors import recommendations_widget
from referrals.selectors import referral_widget
from reminders.selectors import ALERT_OVERDUE_DAYS, DUE_ORDER, due_within, most_urgent_first
from retention.clock import business_today
from retention.compiled import CompiledQuery
from retention.models import Customer, Job, Provider, ServiceType


def seasonal_banner(customer: Customer):
    """The active seasonal campaign and the customer's code; two queries.
    None when no campaign runs this month."""
    return seasonal_offer(customer=customer)


# The banner names this many codes, soonest to expire first; the rest are counted and
# linked (the booking page lists every one), so a customer with many vouchers gets a
# short dashboard rather than a long one that takes ever longer to draw.
PROMO_BANNER_LIMIT = 5


def promo_banner(customer: Customer):
    """The customer's active promo codes and vouchers, the first PROMO_BANNER_LIMIT of
    them, and how many more there are; one query. None when there are none."""
    codes = active_promo_codes(customer=customer)
    if not codes:
        return None
    return {"codes": codes[:PROMO_BANNER_LIMIT], "more": len(codes) - len(codes[:PROMO_BANNER_LIMIT])}


def loyalty_widget(customer: Customer):
    """Balance, tier and progress to the next tier; one query."""
    return loyalty_summary(customer=customer)


RECENT_JOBS = 5
# The alert reads every overdue service (ten years back: as far as the compiled query
# places a date) to say "and N more overdue" as the services page counts them; its own
# service is the most urgent within ALERT_OVERDUE_DAYS.
EVER_OVERDUE_DAYS = 3_650

# What the dashboard shows of each job, after the membership flags and the stats.
JOB_FIELDS = (
    "pk", "scheduled_for", "status", "amount_paid", "created_at", "completed_at", "next_due_date",
    "service_type_id", "service_type__name", "service_type__slug",
    "provider_id", "provider__business_name", "provider__phone",
    "plan_visit__subscription__plan__name",  # shown as a plan visit (plans)
)


def job_facts_query(*, id: int, day: dt.date):
    """The jobs of customer `id` that are its next job, one of its recent completed
    jobs or due for the alert on `day`, each marked with which, with the stats (see
    job_facts)."""
    jobs = Job.objects.filter(customer_id=id)
    ahead = Q(status=Job.Status.SCHEDULED, scheduled_for__gte=day)
    completed = Q(status=Job.Status.COMPLETED)
    due = due_within(today=day, overdue_days=EVER_OVERDUE_DAYS)
    next_job = jobs.filter(ahead).order_by("scheduled_for", "created_at").values("pk")[:1]
    recent = jobs.filter(completed).order_by("-completed_at", "-created_at").values("pk")[:RECENT_JOBS]
    totals = jobs.order_by().values("customer_id")
    return (
        jobs.filter(Q(pk=Subquery(next_job)) | Q(pk__in=recent) | due)
        .annotate(
            is_next=ExpressionWrapper(Q(pk=Subquery(next_job)), output_field=BooleanField()),
            is_recent=ExpressionWrapper(Q(pk__in=recent), output_field=BooleanField()),
            is_due=ExpressionWrapper(due, output_field=BooleanField()),
            completed_count=Subquery(totals.annotate(n=Count("pk", filter=completed)).values("n")),
            upcoming_count=Subquery(totals.annotate(n=Count("pk", filter=ahead)).values("n")),
            spent=Subquery(totals.annotate(n=Sum("amount_paid", filter=completed)).values("n")),
        )
        .order_by(*DUE_ORDER)
        .values_list("is_next", "is_recent", "is_due", "completed_count", "upcoming_count", "spent", *JOB_FIELDS)
    )


# Compiled to SQL once per process: building and compiling it (the alert's correlated
# EXISTS above all) was a third of the page's time, on every request.
JOB_FACTS = CompiledQuery(job_facts_query)


def _job(row: tuple) -> Job:
    (pk, scheduled_for, status, amount_paid, created_at, completed_at, next_due_date,
     service_type_id, service_name, service_slug, provider_id, provider_name, provider_phone, plan_name) = row
    job = Job(
        pk=pk, scheduled_for=scheduled_for, status=status, amount_paid=amount_paid, created_at=created_at,
        completed_at=completed_at, next_due_date=next_due_date,
        service_type=ServiceType(pk=service_type_id, name=service_name, slug=service_slug),
        provider=Provider(pk=provider_id, business_name=provider_name, phone=provider_phone),
    )
    # What the templates read of a plan visit (job.plan_visit.subscription.plan.name);
    # None caches "no plan visit" so that reading it costs no query.
    job.plan_visit = PlanVisit(subscription=Subscription(plan=Plan(name=plan_name))) if plan_name else None
    return job


def job_facts(customer: Customer, today: dt.date) -> dict:
    """The dashboard's job facts in one query (job_facts_query, compiled once): the stats
    (completed, upcoming, spent), the next job, the recent completed jobs and the
    service-due alert (the most urgent service due within 7 days,
    reminders.selectors.due_within). The stats are uncorrelated subqueries, which
    PostgreSQL computes once; a customer with none of these jobs has nothing to count,
    so the stats are then zero."""
    rows = JOB_FACTS.rows(id=customer.pk, day=today)
    jobs = [(flags, _job(row[6:])) for row in rows for flags in [row[:3]]]
    first = rows[0] if rows else (None, None, None, 0, 0, 0)
    due_now = most_urgent_first([job for (_n, _r, due), job in jobs if due], today=today)
    return {
        # What reminders.selectors.due_services gives for today: the recommendations' list.
        "due_services": [due for due in due_now if due.days_until_due >= -ALERT_OVERDUE_DAYS],
        "stats": {"completed": first[3], "upcoming": first[4], "spent": first[5] or 0},
        "next_job": next((job for (is_next, _r, _d), job in jobs if is_next), None),
        "recent_jobs": sorted(
            (job for (_n, is_recent, _d), job in jobs if is_recent),
            key=lambda job: (job.completed_at, job.created_at),
            reverse=True,
        ),
        "service_due_alert": service_due_alert(due_now),
    }


def service_due_alert(due_now: list) -> dict | None:
    """The most urgent service due within 7 days, overdue up to 30 days, and how many
    other services are overdue as the services page counts them (any age) or due soon.
    None when nothing is due in the alert's window."""
    in_window = [due for due in due_now if due.days_until_due >= -ALERT_OVERDUE_DAYS]
    if not in_window:
        return None
    most_urgent = in_window[0]
    others = [due for due in due_now if due is not most_urgent]
    return {
        "most_urgent": most_urgent,
        "count": len(in_window),
        "more_overdue": sum(1 for due in others if due.urgency == "overdue"),
        "more_due_soon": sum(1 for due in others if due.urgency != "overdue"),
    }


def dashboard_context(customer: Customer) -> dict:
    facts = job_facts(customer, business_today())
    return {
        "service_due_alert": facts["service_due_alert"],
        "seasonal_banner": seasonal_banner(customer),
        "promo_banner": promo_banner(customer),
        # The seed's widget section; each feature fills in its own line.
        "bundles_widget": bundles_widget(customer),  # two queries
        "loyalty_widget": loyalty_widget(customer),
        # One query and one insert: the due services are the alert's.
        "recommendations_widget": recommendations_widget(customer, due=facts["due_services"]),
        "referral_widget": referral_widget(customer=customer),
        "subscription_widget": subscription_widget(customer=customer, today=business_today()),
        "stats": facts["stats"],
        "next_job": facts["next_job"],
        "recent_jobs": facts["recent_jobs"],
        **newest_notifications(customer),
    }


def newest_notifications(customer: Customer) -> dict:
    """The five newest notifications and the bell's unread count, in one query: the
    window count runs over all the customer's notifications, before the LIMIT."""
    newest = list(
        customer.notifications.annotate(
            unread_total=Window(Count("pk", filter=Q(read_at__isnull=True)))
        )[:5]
    )
    return {
        "notifications": newest,
        "unread_notifications": newest[0].unread_total if newest else 0,
    }

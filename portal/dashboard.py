"""What the customer dashboard shows, gathered in a fixed number of queries.

Each widget's data comes from the app that owns it; a widget whose function
returns None is not shown.
"""

from django.db.models import Count, Q, Sum

from campaigns.selectors import active_promo_codes, seasonal_offer
from loyalty.selectors import loyalty_summary
from referrals.selectors import referral_widget
from plans.selectors import PLAN_VISIT_RELATED, subscription_widget
from reminders.selectors import ALERT_OVERDUE_DAYS, due_services
from retention.clock import business_today
from retention.models import Customer, Job

EVER = 100 * 366  # days: every overdue service, as the services page lists them


def service_due_alert(customer: Customer):
    """The most urgent service due within 7 days, overdue up to 30 days, and how many
    other services are overdue as the services page counts them (any age) or due soon;
    one query. None when nothing is due in the alert's window."""
    today = business_today()
    every_due = due_services(customer=customer, today=today, overdue_days=EVER)
    in_window = [due for due in every_due if due.days_until_due >= -ALERT_OVERDUE_DAYS]
    if not in_window:
        return None
    most_urgent = in_window[0]
    others = [due for due in every_due if due is not most_urgent]
    return {
        "most_urgent": most_urgent,
        "count": len(in_window),
        "more_overdue": sum(1 for due in others if due.urgency == "overdue"),
        "more_due_soon": sum(1 for due in others if due.urgency != "overdue"),
    }


def seasonal_banner(customer: Customer):
    """The active seasonal campaign and the customer's code; three queries.
    None when no campaign runs this month."""
    return seasonal_offer(customer=customer)


def promo_banner(customer: Customer):
    """The customer's active promo codes and vouchers; two queries. None when there are none."""
    return active_promo_codes(customer=customer) or None


def loyalty_widget(customer: Customer):
    """Balance, tier and progress to the next tier; one query."""
    return loyalty_summary(customer=customer)


def job_stats(customer: Customer) -> dict:
    today = business_today()
    return customer.jobs.aggregate(
        completed=Count("pk", filter=Q(status=Job.Status.COMPLETED)),
        upcoming=Count("pk", filter=Q(status=Job.Status.SCHEDULED, scheduled_for__gte=today)),
        spent=Sum("amount_paid", filter=Q(status=Job.Status.COMPLETED), default=0),
    )


def dashboard_context(customer: Customer) -> dict:
    jobs = customer.jobs.select_related("service_type", "provider", PLAN_VISIT_RELATED)
    return {
        "service_due_alert": service_due_alert(customer),
        "seasonal_banner": seasonal_banner(customer),
        "promo_banner": promo_banner(customer),
        # The seed's widget section; each feature fills in its own line.
        "bundles_widget": None,
        "loyalty_widget": loyalty_widget(customer),
        "recommendations_widget": None,
        "referral_widget": referral_widget(customer=customer),
        "subscription_widget": subscription_widget(customer=customer, today=business_today()),
        "stats": job_stats(customer),
        "next_job": jobs.filter(status=Job.Status.SCHEDULED, scheduled_for__gte=business_today())
        .order_by("scheduled_for", "created_at")
        .first(),
        "recent_jobs": list(jobs.order_by("-completed_at", "-created_at").filter(status=Job.Status.COMPLETED)[:5]),
        "notifications": list(customer.notifications.all()[:5]),
    }

"""What the page benchmark (bench/pages.py) and the query-count tests share: the pages
and JSON endpoints a customer or a provider opens, and a customer with a long history
(ledger lines, jobs, notifications) to show that none of them grows with it."""

import datetime as dt

from django.utils import timezone

from loyalty.models import LoyaltyAccount, PointsEntry
from loyalty.tiers import tier_for
from retention.models import Customer, Job, Notification, Provider, ServiceType, User
from retention.models.notifications import JOB_UPDATE

# The trivial logged-in endpoint every page is measured against.
BASELINE_URL = "/api/customer/notifications"

# Every page and GET endpoint a customer opens (the API's customer GET endpoints
# without path parameters are added from the OpenAPI document by customer_api_urls()).
CUSTOMER_PAGES = [
    "/customer-portal/",
    "/customer-portal/rewards/",
    "/customer-portal/rewards/history/",
    "/customer-portal/services/",
    "/customer-portal/jobs/",
    "/customer-portal/notifications/",
    "/customer-portal/book/",
    "/customer-portal/preferences/",
]
PROVIDER_PAGES = ["/provider-portal/", "/api/provider/jobs?status=scheduled"]

# The recommendations widget records what it shows in one INSERT on the day's first view
# that shows something new, and none otherwise (recommendations.selectors.record_shown):
# a page showing it may cost one query more. One query, not growth with history.
RECORDS_SHOWN = {"/customer-portal/", "/api/customer/recommendations"}


def api_get_urls(prefix: str) -> list[str]:
    """The API's GET endpoints under /api/<prefix>/ that take no path parameter, from
    its OpenAPI document: a feature's new endpoint is measured and counted without
    anyone adding it here."""
    from portal.api import api

    schema = api.get_openapi_schema()
    return sorted(
        path
        for path, operations in schema["paths"].items()
        if path.startswith(f"/api/{prefix}/") and "get" in operations and "{" not in path
    )


def customer_urls() -> list[str]:
    return CUSTOMER_PAGES + [url for url in api_get_urls("customer") if url != BASELINE_URL]


def provider_urls() -> list[str]:
    return PROVIDER_PAGES + [url for url in api_get_urls("provider") if url not in PROVIDER_PAGES and url != "/api/provider/jobs"]


def give_history(
    customer: Customer,
    *,
    provider: Provider,
    staff: User,
    ledger_entries: int = 200,
    jobs: int = 50,
    notifications: int = 100,
    today: dt.date | None = None,
) -> None:
    """Gives a customer a long history in a few bulk inserts: `jobs` jobs over the last
    two years (one in ten scheduled ahead, the first of them; one in ten cancelled; the rest completed), one earn
    line per completed job and staff adjustments up to `ledger_entries` ledger lines
    (the account's balance and lifetime points kept equal to the ledger's sums), and
    `notifications` notifications, a third of them unread."""
    today = today or timezone.localdate()
    types = list(ServiceType.objects.order_by("name"))
    now = timezone.now()
    rows = []
    for i in range(jobs):
        service = types[i % len(types)]
        # The first is scheduled ahead, so even a one-job history lists one on every page.
        kind = "scheduled" if i % 10 == 0 else ("cancelled" if i % 10 == 9 else "completed")
        day = today - dt.timedelta(days=3 + i * 14) if kind != "scheduled" else today + dt.timedelta(days=3 + i)
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        rows.append(
            Job(
                customer=customer,
                provider=provider,
                service_type=service,
                scheduled_for=day,
                status=kind,
                price=service.base_price,
                amount_paid=service.base_price,
                created_at=at - dt.timedelta(days=7),
                completed_at=at if kind == "completed" else None,
                cancelled_at=at if kind == "cancelled" else None,
                next_due_date=service.next_due_date(day) if kind == "completed" else None,
            )
        )
    created = Job.objects.bulk_create(rows)
    account, _ = LoyaltyAccount.objects.get_or_create(customer=customer)
    entries = [
        PointsEntry(
            account=account,
            points=int(job.amount_paid),
            type=PointsEntry.Type.EARN,
            description=f"Completed {job.service_type.name}",
            job=job,
            created_at=job.completed_at,
        )
        for job in created
        if job.status == Job.Status.COMPLETED
    ][:ledger_entries]
    entries += [
        PointsEntry(
            account=account,
            points=-10 if i % 3 == 2 else 25,
            type=PointsEntry.Type.ADJUSTMENT,
            description="Goodwill",
            created_by=staff,
            created_at=now - dt.timedelta(hours=i + 1),
        )
        for i in range(ledger_entries - len(entries))
    ]
    PointsEntry.objects.bulk_create(entries)
    lifetime = sum(e.points for e in entries if e.type == PointsEntry.Type.EARN) + account.lifetime_points
    LoyaltyAccount.objects.filter(pk=account.pk).update(
        points=sum(e.points for e in entries) + account.points,
        lifetime_points=lifetime,
        tier=tier_for(lifetime).key,
    )
    Notification.objects.bulk_create(
        Notification(
            customer=customer,
            kind=JOB_UPDATE,
            title=f"Update {i}",
            message="Your provider confirmed the visit.",
            action_url="/customer-portal/jobs/",
            created_at=now - dt.timedelta(hours=i),
            read_at=None if i % 3 == 0 else now,
        )
        for i in range(notifications)
    )

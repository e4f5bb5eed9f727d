"""Recommendations benchmark, two parts, each against a baseline in the same run:

1. refresh_recommendations (the command, through the job runner) over completed jobs
   against a hand-written SQL floor: the same DELETE and INSERT ... SELECT typed out by
   hand and run on a bare cursor, with no runner, lock or job-run bookkeeping. Both
   must write the same rows; the script checks it. For reference it also times the
   textbook self-join (every customer's pairs of services, then grouped), which the
   command does not use.
2. The customer dashboard with every widget showing something (service-due alert,
   seasonal banner, promo codes, bundles, loyalty, recommendations) against a trivial
   logged-in JSON view, GET /api/customer/notifications, through Django's test client
   in one process (no network, no server): median and p90 milliseconds per request;
   and the same dashboard with the bundles and recommendations selectors switched off,
   to show what these two widgets cost.

    .venv/bin/python bench/recommendations.py                 # 1,000,000 jobs, 100,000 customers, 10 services
    .venv/bin/python bench/recommendations.py --tiny          # 2,000 jobs, 200 customers: seconds, for CI

Uses BENCH_DATABASE_URL (default: a `retention_bench_recommendations` database on the
local server), created and migrated if missing, emptied first and dropped at the end
unless --keep-db. Data is generated in SQL with a fixed seed: each customer has a taste
(customer id mod 5) that picks from two neighbouring pairs of services 70% of the time,
so services really do go together; the rest is uniform.
"""

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/retention_bench_recommendations"
)
os.environ.setdefault("LOG_LEVEL", "WARNING")


def admin_connection():
    import psycopg

    url = os.environ["DATABASE_URL"]
    return url.rsplit("/", 1)[1], psycopg.connect(
        url.rsplit("/", 1)[0] + "/postgres", autocommit=True
    )


def ensure_database() -> None:
    name, conn = admin_connection()
    with conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database()

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from bundles.models import Bundle
from campaigns import demo as campaigns_demo
from campaigns.selectors import active_campaign
from recommendations.models import ServicePair
from retention import demo
from retention.clock import business_today
from retention.models import Customer, Job, Provider, ServiceType, User

SEED = 0.16
EXTRA_SERVICES = [
    "Gutter Cleaning",
    "Window Washing",
    "Pressure Washing",
    "Carpet Cleaning",
    "Chimney Sweep",
    "Tree Trimming",
]

# The floor: what refresh_recommendations does, typed out by hand.
FLOOR_SQL = """
DELETE FROM recommendations_servicepair;
WITH baskets AS MATERIALIZED (
    SELECT services, count(*) AS customers FROM (
        SELECT array_agg(DISTINCT service_type_id ORDER BY service_type_id) AS services
        FROM retention_job WHERE status = 'completed' AND completed_at < %(until)s GROUP BY customer_id
    ) c GROUP BY services
),
everyone AS (SELECT sum(customers)::float8 AS n FROM baskets),
singles AS (SELECT s, sum(customers)::float8 AS n FROM baskets, unnest(services) s GROUP BY s),
pairs AS (SELECT a, b, sum(customers) AS n FROM baskets, unnest(services) a, unnest(services) b WHERE a <> b GROUP BY a, b)
INSERT INTO recommendations_servicepair (service_type_id, recommended_id, customers, support, confidence, lift, as_of)
SELECT a, b, p.n, p.n / e.n, p.n / sa.n, p.n * e.n / (sa.n * sb.n), %(as_of)s
FROM pairs p JOIN singles sa ON sa.s = p.a JOIN singles sb ON sb.s = p.b CROSS JOIN everyone e
WHERE p.n / e.n >= %(min_support)s;
"""

# For reference: the textbook way, every customer's pairs joined and grouped.
SELF_JOIN_SQL = """
WITH had AS (SELECT DISTINCT customer_id, service_type_id FROM retention_job
             WHERE status = 'completed' AND completed_at < %(until)s)
SELECT a.service_type_id, b.service_type_id, count(*)
FROM had a JOIN had b ON a.customer_id = b.customer_id AND a.service_type_id <> b.service_type_id
GROUP BY 1, 2
"""


def sql(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def build_dataset(*, customers: int, jobs: int, as_of: dt.date) -> None:
    tables = (
        ", ".join(m._meta.db_table for m in (User, ServiceType, Bundle, ServicePair))
        + ", campaigns_campaign"
    )
    sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    with transaction.atomic():
        types = demo.seed_service_types()
        for i, name in enumerate(EXTRA_SERVICES):
            ServiceType.objects.create(
                name=name,
                slug=name.lower().replace(" ", "-"),
                frequency_days=30 + 30 * i,
                base_price=80 + 10 * i,
            )
        campaigns_demo.seed_campaigns(types)
        provider = Provider.objects.create(
            user=User.objects.create_user("provider@bench.example", "x"),
            business_name="Bench Pro",
            phone="555-0199",
        )
        provider.service_types.set(ServiceType.objects.all())
        sql("SELECT setseed(%s)", [SEED])
        p = {
            "n": customers,
            "jobs": jobs,
            "as_of": as_of,
            "provider": provider.pk,
            "now": timezone.now(),
        }
        sql(
            """INSERT INTO retention_user (password, is_superuser, email, name, is_staff, is_active, date_joined)
               SELECT '!', false, 'customer' || g || '@bench.example', 'Customer ' || g, false, true, %(now)s
               FROM generate_series(1, %(n)s) g""",
            p,
        )
        sql("""INSERT INTO retention_customer (phone, marketing_opt_in, service_reminders_opt_in, created_at, user_id)
               SELECT '555-0100', true, true, date_joined, id FROM retention_user WHERE email LIKE 'customer%%'""")
        sql("""CREATE TEMP TABLE bench_services AS
               SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, frequency_days, base_price FROM retention_servicetype""")
        sql("""CREATE TEMP TABLE bench_customers AS
               SELECT row_number() OVER (ORDER BY id) AS k, id FROM retention_customer""")
        sql(
            """INSERT INTO retention_job (id, customer_id, provider_id, service_type_id, scheduled_for, status, price,
                                          amount_paid, created_at, completed_at, next_due_date)
               SELECT gen_random_uuid(), c.id, %(provider)s, s.id, j.day, 'completed', s.base_price, s.base_price,
                      j.day - interval '7 days', j.day + interval '14 hours', j.day + s.frequency_days
               FROM (
                   SELECT 1 + floor(random() * %(n)s)::int AS ck, random() AS r, random() AS pick,
                          %(as_of)s::date - (1 + floor(random() * 700))::int AS day
                   FROM generate_series(1, %(jobs)s)
               ) j
               JOIN bench_customers c ON c.k = j.ck
               JOIN bench_services s ON s.k = CASE WHEN j.r < 0.7 THEN ((j.ck %% 5) * 2 + floor(j.pick * 4)::int) %% 10
                                                   ELSE floor(j.pick * 10)::int END""",
            p,
        )
    sql("ANALYZE retention_job")


def snapshot() -> list[tuple]:
    return sorted(
        (
            p.service_type_id,
            p.recommended_id,
            p.customers,
            round(p.support, 9),
            round(p.confidence, 9),
            round(p.lift, 9),
        )
        for p in ServicePair.objects.all()
    )


def time_floor(params) -> float:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, params)
    return time.perf_counter() - started


def time_job(as_of) -> float:
    started = time.perf_counter()
    call_command(
        "refresh_recommendations",
        "--date",
        as_of.isoformat(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return time.perf_counter() - started


def time_self_join(params) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SELF_JOIN_SQL, params)
        cursor.fetchall()
    return time.perf_counter() - started


def bench_refresh(*, customers: int, jobs: int, rounds: int) -> dict:
    as_of = business_today()
    started = time.perf_counter()
    build_dataset(customers=customers, jobs=jobs, as_of=as_of)
    print(
        f"data: {jobs:,} completed jobs, {customers:,} customers, {ServiceType.objects.count()} services "
        f"({time.perf_counter() - started:.1f} s to build)"
    )
    params = {
        "until": timezone.now() + dt.timedelta(days=2),
        "as_of": as_of,
        "min_support": settings.RECOMMENDATION_MIN_SUPPORT,
    }
    floors, runs = [], []
    for _ in range(rounds):  # alternate, so a busy moment on the machine hits both
        floors.append(time_floor(params))
        floor_rows = snapshot()
        runs.append(time_job(as_of))
        assert snapshot() == floor_rows, "the command and the floor wrote different pairs"
    self_join = time_self_join(params)
    return {
        "floor": min(floors),
        "job": min(runs),
        "self_join": self_join,
        "pairs": len(floor_rows),
    }


def timed_requests(client, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return out


def bench_dashboard(*, requests: int) -> dict:
    """One customer with every widget showing: a due service, the running campaign and
    a code for it, an all-year bundle, points, three recommendations."""
    from loyalty.models import LoyaltyAccount
    from tests.factories import PromoCodeFactory

    customer = Customer.objects.order_by("pk").first()
    lawn = ServiceType.objects.get(slug="lawn-care")
    Job.objects.create(
        customer=customer,
        provider=Provider.objects.get(),
        service_type=lawn,
        scheduled_for=business_today() - dt.timedelta(days=12),
        status=Job.Status.COMPLETED,
        price=lawn.base_price,
        amount_paid=lawn.base_price,
        completed_at=timezone.now() - dt.timedelta(days=12),
        next_due_date=business_today() + dt.timedelta(days=2),
    )
    campaign = active_campaign()
    PromoCodeFactory(customer=customer, service_types=list(campaign.service_types.all()))
    bundle = Bundle.objects.create(name="Everything outdoors", discount_percent=10)
    bundle.service_types.set(ServiceType.objects.order_by("pk")[:3])
    LoyaltyAccount.objects.get_or_create(
        customer=customer, defaults={"points": 700, "lifetime_points": 700}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(customer.user)
    html = client.get("/customer-portal/").content.decode()
    for widget in (
        "service-due-alert",
        "bundles-widget",
        "loyalty-widget",
        "recommendations-widget",
        "promo-banner",
    ):
        assert f'data-testid="{widget}"' in html, widget
    shown = html.count('data-testid="recommendation"')
    timed_requests(client, "/api/customer/notifications", 10)  # warm up both
    timed_requests(client, "/customer-portal/", 10)
    baseline, dashboard, without = [], [], []
    for _ in range(5):
        baseline += timed_requests(client, "/api/customer/notifications", requests // 5)
        dashboard += timed_requests(client, "/customer-portal/", requests // 5)
        with without_new_widgets():
            without += timed_requests(client, "/customer-portal/", requests // 5)
    return {"baseline": baseline, "dashboard": dashboard, "without": without, "recommendations": shown}


@contextmanager
def without_new_widgets():
    """The dashboard as it was before bundles and recommendations: their selectors off."""
    from portal import dashboard

    saved = dashboard.bundles_widget, dashboard.recommendations_widget
    dashboard.bundles_widget = dashboard.recommendations_widget = lambda customer, **given: None
    try:
        yield
    finally:
        dashboard.bundles_widget, dashboard.recommendations_widget = saved


def p90(values):
    return statistics.quantiles(values, n=10)[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tiny", action="store_true", help="2,000 jobs over 200 customers, 50 requests"
    )
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if args.tiny:
        args.jobs, args.customers, args.requests = 2_000, 200, 50
    call_command("migrate", verbosity=0)
    print(
        f"Recommendations benchmark on {connection.settings_dict['NAME']} (PostgreSQL "
        f"{connection.cursor().connection.info.server_version}), "
        f"RECOMMENDATION_MIN_SUPPORT={settings.RECOMMENDATION_MIN_SUPPORT}"
    )
    refresh = bench_refresh(customers=args.customers, jobs=args.jobs, rounds=args.rounds)
    print(
        f"refresh_recommendations: {refresh['job']:.2f} s; hand-written SQL floor {refresh['floor']:.2f} s: "
        f"{refresh['job'] / refresh['floor']:.2f}x the floor ({refresh['pairs']} pairs, best of {args.rounds}); "
        f"textbook self-join, counts only: {refresh['self_join']:.2f} s"
    )
    page = bench_dashboard(requests=args.requests)
    b, d = statistics.median(page["baseline"]), statistics.median(page["dashboard"])
    print(
        f"dashboard (all widgets, {page['recommendations']} recommendations): median {d:.1f} ms, p90 {p90(page['dashboard']):.1f} ms; "
        f"GET /api/customer/notifications: median {b:.1f} ms, p90 {p90(page['baseline']):.1f} ms: "
        f"{d / b:.1f}x the trivial view ({len(page['dashboard'])} requests each)"
    )
    w = statistics.median(page["without"])
    print(
        f"dashboard without bundles and recommendations: median {w:.1f} ms ({w / b:.1f}x the trivial view); "
        f"the two widgets add {d - w:.1f} ms a view"
    )
    if not args.keep_db:
        connections.close_all()
        name, conn = admin_connection()
        with conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

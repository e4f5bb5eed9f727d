"""Benchmark: the staff metrics page on 100,000 customers, against the admin index.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention_metrics_bench \\
        .venv/bin/python bench/metrics_page.py [--customers 100000] [--repeat 5] [--reuse] [--tiny]

Creates the database if missing, migrates, and replaces its contents with generated
data (--reuse instead times the data of an earlier run, and refuses a database whose
generation did not finish: a marker table is written last): customers with two years
of job history,
seasonal and win-back sends with promo codes (some used at booking), service
reminders, loyalty accounts and ledger lines, redemptions, tier upgrades, the email
outbox and job runs. Everything is generated with set-based SQL (INSERT ... SELECT over
generate_series), so 100,000 customers take about a minute rather than an hour of ORM
saves. It refuses a database whose name does not contain "bench": it deletes data.

Then it times GET /admin/metrics/?weeks=4|12|52 and GET /admin/ (the baseline: the
admin index, a page staff open all the time) in the same run, in-process through
Django's test client with a logged-in superuser, and prints the median of --repeat
runs after one warm-up each, the query counts and the ratio to the baseline.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/retention_metrics_bench")
os.environ.setdefault("DEBUG", "true")  # as scripts/test: no static manifest, plain-HTTP cookies
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from campaigns.models import Campaign  # noqa: E402
from loyalty.models import Reward  # noqa: E402
from metrics import rollup  # noqa: E402
from metrics.models import RolledUpDay  # noqa: E402
from metrics.periods import Period  # noqa: E402
from metrics.report import SECTIONS, build_report  # noqa: E402
from metrics.selectors import reporting_queries  # noqa: E402
from retention.clock import business_today  # noqa: E402
from retention.demo import seed_service_types  # noqa: E402
from retention.models import Customer, Provider, User  # noqa: E402

BENCH_EMAIL = "bench-staff@example.com"
QUERY_GOAL = 24  # issue 19's goal for the page, whatever the data size


def ensure_database() -> None:
    db = settings.DATABASES["default"]
    if "bench" not in db["NAME"]:
        sys.exit(f"refusing to fill {db['NAME']!r}: use a database whose name contains 'bench'")
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone():
            admin.execute(f'CREATE DATABASE "{db["NAME"]}"')


TABLES = [
    "metrics_dailyfigure",
    "metrics_remindedcustomer",
    "metrics_rolledupday",
    "metrics_change",
    "loyalty_pointsentry",
    "loyalty_redemption",
    "loyalty_tierupgrade",
    "loyalty_loyaltyaccount",
    "loyalty_reward",
    "reminders_servicereminder",
    "reminders_winbacksend",
    "campaigns_campaignsend",
    "campaigns_campaign_service_types",
    "campaigns_campaign",
    "retention_job",
    "retention_promocode_service_types",
    "retention_promocode",
    "retention_outboundemail",
    "retention_notification",
    "retention_jobrun",
    "retention_customer",
    "retention_provider_service_types",
    "retention_provider",
    "retention_user",
]

# Each statement is one INSERT ... SELECT; %(tz)s is the business time zone.
GENERATE = [
    # Customers, joined over the last three years; no usable password.
    """
    INSERT INTO retention_user (email, name, password, is_staff, is_active, is_superuser, date_joined)
    SELECT 'customer' || i || '@bench.example', 'Customer ' || i, '!', false, true, false,
           now() - (i %% 1095) * interval '1 day'
    FROM generate_series(1, %(customers)s) AS i
    """,
    """
    INSERT INTO retention_customer (user_id, phone, marketing_opt_in, service_reminders_opt_in, created_at)
    SELECT id, '555-0100', id %% 10 <> 0, id %% 10 <> 1, date_joined FROM retention_user WHERE email LIKE '%%@bench.example'
    """,
    # Job history: 1-9 bookings per customer at random moments over two years (about
    # 5 on average); past ones completed (5%% cancelled), recent ones still scheduled.
    """
    INSERT INTO retention_job (id, customer_id, provider_id, service_type_id, scheduled_for, status, price,
                               amount_paid, created_at, completed_at, cancelled_at, next_due_date)
    SELECT gen_random_uuid(), b.customer_id, %(provider)s, st.id, (b.booked_at + interval '5 days')::date,
           CASE WHEN b.booked_at > now() - interval '5 days' THEN 'scheduled'
                WHEN b.r < 0.05 THEN 'cancelled' ELSE 'completed' END,
           st.base_price, st.base_price, b.booked_at,
           CASE WHEN b.booked_at <= now() - interval '5 days' AND b.r >= 0.05 THEN b.booked_at + interval '5 days' END,
           CASE WHEN b.booked_at <= now() - interval '5 days' AND b.r < 0.05 THEN b.booked_at + interval '1 day' END,
           CASE WHEN b.booked_at <= now() - interval '5 days' AND b.r >= 0.05
                THEN (b.booked_at + interval '5 days')::date + st.frequency_days END
    FROM (
        SELECT c.id AS customer_id, g, random() AS r,
               now() - (random() * 730 + g * 0) * interval '1 day' AS booked_at
        FROM retention_customer c CROSS JOIN LATERAL generate_series(1, 1 + c.id %% 9) AS g
    ) AS b
    JOIN retention_servicetype st ON st.slug = (ARRAY['lawn-care', 'pool-service', 'pest-control', 'hvac'])[1 + (b.customer_id + b.g) %% 4]
    """,
    # Seasonal sends: 60%% of customers got two of the four campaigns over the last year,
    # each with its personal code (the code names the campaign: S<k>-<customer>).
    """
    INSERT INTO retention_promocode (code, customer_id, source, discount_type, discount_value, expires_at, created_at)
    SELECT 'S' || k || '-' || c.id, c.id, 'seasonal', 'percent', 15, s.sent_at + interval '30 days', s.sent_at
    FROM retention_customer c
    CROSS JOIN LATERAL (VALUES (c.id %% 4), ((c.id + 2) %% 4)) AS ks(k)
    CROSS JOIN LATERAL (SELECT now() - (k * 91 + random() * 90) * interval '1 day' AS sent_at) AS s
    WHERE c.id %% 5 < 3
    """,
    """
    INSERT INTO campaigns_campaignsend (campaign_id, customer_id, season_year, promo_code_id, sent_at)
    SELECT (SELECT id FROM campaigns_campaign ORDER BY start_month OFFSET split_part(substr(p.code, 2), '-', 1)::int LIMIT 1),
           p.customer_id, extract(year FROM p.created_at)::int, p.id, p.created_at
    FROM retention_promocode p WHERE p.source = 'seasonal'
    """,
    # Win-back: one customer in seven, sent over the last year.
    """
    INSERT INTO retention_promocode (code, customer_id, source, discount_type, discount_value, expires_at, created_at)
    SELECT 'W-' || c.id, c.id, 'winback', 'percent', 15, s.sent_at + interval '30 days', s.sent_at
    FROM retention_customer c CROSS JOIN LATERAL (SELECT now() - (random() * 365 + c.id * 0) * interval '1 day' AS sent_at) AS s
    WHERE c.id %% 7 = 0
    """,
    """
    INSERT INTO reminders_winbacksend (customer_id, promo_code_id, sent_at, sent_on)
    SELECT customer_id, id, created_at, (created_at AT TIME ZONE %(tz)s)::date FROM retention_promocode WHERE source = 'winback'
    """,
    # A quarter of seasonal codes and a fifth of win-back codes used at a booking within 14 days.
    """
    INSERT INTO retention_job (id, customer_id, provider_id, service_type_id, scheduled_for, status, price,
                               amount_paid, created_at, completed_at, next_due_date, promo_code_id)
    SELECT gen_random_uuid(), p.customer_id, %(provider)s, st.id, (u.booked_at + interval '5 days')::date,
           CASE WHEN u.booked_at > now() - interval '5 days' THEN 'scheduled' ELSE 'completed' END,
           st.base_price, round(st.base_price * 0.85, 2), u.booked_at,
           CASE WHEN u.booked_at <= now() - interval '5 days' THEN u.booked_at + interval '5 days' END,
           CASE WHEN u.booked_at <= now() - interval '5 days' THEN (u.booked_at + interval '5 days')::date + st.frequency_days END,
           p.id
    FROM retention_promocode p
    CROSS JOIN LATERAL (SELECT least(now(), p.created_at + (random() * 14 + p.id * 0) * interval '1 day') AS booked_at) AS u
    JOIN retention_servicetype st ON st.slug = 'lawn-care'
    WHERE (p.source = 'seasonal' AND p.id %% 4 = 0) OR (p.source = 'winback' AND p.id %% 5 = 0)
    """,
    """
    UPDATE retention_promocode p SET used_at = j.created_at FROM retention_job j WHERE j.promo_code_id = p.id
    """,
    # Service-due reminders for a third of the completed jobs of the last year.
    """
    INSERT INTO reminders_servicereminder (job_id, customer_id, due_date, sent_at)
    SELECT j.id, j.customer_id, j.next_due_date, (j.next_due_date - 3)::timestamp AT TIME ZONE %(tz)s + interval '11 hours'
    FROM retention_job j
    WHERE j.status = 'completed' AND j.next_due_date BETWEEN current_date - 365 AND current_date + 3
      AND ('x' || left(replace(j.id::text, '-', ''), 8))::bit(32)::int %% 3 = 0
    """,
    # Loyalty: an account each; an earn line per completed job; some tier bonuses.
    """
    INSERT INTO loyalty_loyaltyaccount (customer_id, points, lifetime_points, tier, updated_at)
    SELECT c.id, a.lifetime - a.spent, a.lifetime,
           CASE WHEN a.lifetime >= 5000 THEN 'platinum' WHEN a.lifetime >= 2500 THEN 'gold'
                WHEN a.lifetime >= 1000 THEN 'silver' ELSE 'bronze' END, now()
    FROM retention_customer c
    CROSS JOIN LATERAL (SELECT (random() * 6000 + c.id * 0)::int AS lifetime) AS l
    CROSS JOIN LATERAL (SELECT l.lifetime AS lifetime, (l.lifetime * random() * 0.5)::int AS spent) AS a
    """,
    """
    INSERT INTO loyalty_pointsentry (account_id, points, type, description, job_id, created_at)
    SELECT j.customer_id, floor(j.amount_paid)::int, 'earn', 'Completed job', j.id, j.completed_at
    FROM retention_job j WHERE j.status = 'completed' AND j.amount_paid >= 1
    """,
    """
    INSERT INTO loyalty_pointsentry (account_id, points, type, description, job_id, created_at)
    SELECT e.account_id, greatest(1, e.points / 10), 'tier_bonus', 'Tier bonus', e.job_id, e.created_at
    FROM loyalty_pointsentry e WHERE e.type = 'earn' AND e.account_id %% 5 = 0
    """,
    # Redemptions: one customer in ten redeemed a reward in the last year.
    """
    INSERT INTO retention_promocode (code, customer_id, source, discount_type, discount_value, expires_at, created_at)
    SELECT 'V-' || c.id, c.id, 'voucher', 'amount', 10, s.at + interval '90 days', s.at
    FROM retention_customer c CROSS JOIN LATERAL (SELECT now() - (random() * 365 + c.id * 0) * interval '1 day' AS at) AS s
    WHERE c.id %% 10 = 3
    """,
    """
    INSERT INTO loyalty_redemption (id, account_id, reward_id, points_spent, voucher_id, created_at)
    SELECT gen_random_uuid(), p.customer_id, r.id, r.points_cost, p.id, p.created_at
    FROM retention_promocode p
    JOIN LATERAL (SELECT id, points_cost FROM loyalty_reward ORDER BY points_cost OFFSET p.customer_id %% 6 LIMIT 1) AS r ON true
    WHERE p.source = 'voucher'
    """,
    """
    INSERT INTO loyalty_pointsentry (account_id, points, type, description, redemption_id, created_at)
    SELECT account_id, -points_spent, 'redeem', 'Redeemed', id, created_at FROM loyalty_redemption
    """,
    """
    INSERT INTO loyalty_tierupgrade (account_id, from_tier, to_tier, created_at)
    SELECT customer_id, 'bronze', tier, now() - (random() * 365 + customer_id * 0) * interval '1 day'
    FROM loyalty_loyaltyaccount WHERE tier <> 'bronze' AND customer_id %% 3 = 0
    """,
    # The outbox: one email per send and reminder, mostly delivered.
    """
    INSERT INTO retention_outboundemail (idempotency_key, template, kind, customer_id, to_email, subject, text_body,
                                         html_body, headers, status, attempts, last_error, provider_message_id,
                                         next_attempt_at, created_at, sent_at, as_of, batch_key)
    SELECT e.key, e.template, e.kind, e.customer_id, 'c' || e.customer_id || '@bench.example', 'Subject', 'Text', '<p>HTML</p>',
           '{}', CASE WHEN e.n %% 50 = 0 THEN 'failed' WHEN e.n %% 40 = 0 THEN 'suppressed' ELSE 'sent' END, 1, '', '',
           e.at, e.at, CASE WHEN e.n %% 50 <> 0 AND e.n %% 40 <> 0 THEN e.at + interval '1 minute' END, (e.at AT TIME ZONE %(tz)s)::date, ''
    FROM (
        SELECT 'seasonal/' || id AS key, 'seasonal_offer' AS template, 'marketing' AS kind, customer_id, sent_at AS at, id AS n FROM campaigns_campaignsend
        UNION ALL SELECT 'winback/' || id, 'winback_offer', 'marketing', customer_id, sent_at, id FROM reminders_winbacksend
        UNION ALL SELECT 'service_due/' || id, 'service_due', 'reminder', customer_id, sent_at, id FROM reminders_servicereminder
    ) AS e
    """,
    # Two years of daily job runs, one in thirty failed.
    """
    INSERT INTO retention_jobrun (name, as_of, dry_run, status, started_at, finished_at, stats, error)
    SELECT n.name, d::date, false, CASE WHEN (extract(doy FROM d)::int + n.i) %% 30 = 0 THEN 'failed' ELSE 'succeeded' END,
           d + n.i * interval '1 hour', d + n.i * interval '1 hour' + interval '3 minutes',
           jsonb_build_object('eligible', 100, 'sent', 95, 'skipped', 5, 'failed', 0), ''
    FROM generate_series(now() - interval '730 days', now(), interval '1 day') AS d
    CROSS JOIN (VALUES (1, 'check_inactive_customers'), (2, 'send_seasonal_reminders'), (3, 'check_service_due'),
                       (4, 'deliver_emails')) AS n(i, name)
    """,
]


# Indexes the metrics would use that the schema does not have (their tables belong to
# other apps). --suggested-indexes adds them to the benchmark database to show their
# effect; without it they are dropped, so the figures are for the schema as it is.
SUGGESTED_INDEXES = {
    "bench_points_created": "loyalty_pointsentry (created_at)",
    "bench_reminder_sent": "reminders_servicereminder (sent_at)",
    "bench_campaignsend_sent": "campaigns_campaignsend (sent_at)",
    "bench_winbacksend_sent": "reminders_winbacksend (sent_at)",
    "bench_email_created": "retention_outboundemail (created_at)",
    "bench_email_sent": "retention_outboundemail (sent_at)",
}


def set_suggested_indexes(present: bool) -> None:
    with connection.cursor() as cursor:
        for name, target in SUGGESTED_INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {target}"
                if present
                else f"DROP INDEX IF EXISTS {name}"
            )
        cursor.execute("ANALYZE")


# Written last by generate(), after every statement and the VACUUM: --reuse times only
# a database this script finished building (an interrupted run leaves no marker).
MARKER_TABLE = "bench_metrics_generated"


def finished_size() -> int | None:
    """The number of customers of the last completed generate(), or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT customers FROM {MARKER_TABLE}")
        row = cursor.fetchone()
    return row[0] if row else None


def generate(customers: int) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Dropped first, in its own commit: from here until the end the data is partial.
        cursor.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    types = seed_service_types()
    provider_user = User.objects.create_user(
        email="bench-provider@example.com", password=None, name="Bench Provider"
    )
    provider = Provider.objects.create(
        user=provider_user, business_name="Bench Services", phone="555-0199"
    )
    provider.service_types.set(types.values())
    for i, (season, start, end) in enumerate(
        [("spring", 3, 5), ("summer", 6, 8), ("fall", 9, 11), ("winter", 12, 2)]
    ):
        Campaign.objects.create(
            season=season,
            title=f"{season.title()} offer",
            description="-",
            discount_percent=10 + i,
            start_month=start,
            end_month=end,
        )
    for cost in (250, 500, 750, 1000, 1500, 2500):
        Reward.objects.create(
            name=f"{cost} point reward",
            description="-",
            points_cost=cost,
            reward_type="amount_off",
            reward_value=cost // 50,
        )
    params = {"customers": customers, "provider": provider.pk, "tz": settings.TIME_ZONE}
    with connection.cursor() as cursor:
        for statement in GENERATE:
            step = time.perf_counter()
            cursor.execute(statement, params)
            first_line = next(
                line for line in statement.strip().splitlines() if not line.strip().startswith("--")
            )
            print(
                f"  {cursor.rowcount:>9,} rows  {time.perf_counter() - step:5.1f}s  {first_line.strip()[:70]}",
                file=sys.stderr,
            )
        # As autovacuum would soon after: statistics, and the visibility map that lets
        # index-only scans skip the table.
        cursor.execute("VACUUM ANALYZE")
    roll_up()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {MARKER_TABLE} (customers integer NOT NULL, finished_at timestamptz NOT NULL)")
        cursor.execute(f"INSERT INTO {MARKER_TABLE} VALUES (%s, now())", [customers])
    print(f"generated in {time.perf_counter() - started:.0f}s", file=sys.stderr)


def roll_up() -> None:
    """What the nightly refresh_metrics would have written over the two years: every
    closed day rebuilt in one set-based pass (metrics.rollup.catch_up), the journal of
    the generation's writes read and cleared."""
    step = time.perf_counter()
    today = business_today()
    result = rollup.catch_up(today, first=today - dt.timedelta(days=730))
    with connection.cursor() as cursor:  # as autovacuum would soon after
        for table in ("metrics_dailyfigure", "metrics_remindedcustomer", "metrics_rolledupday", "metrics_change"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"  {result['rebuilt']:>9,} days  {time.perf_counter() - step:5.1f}s  roll-up (refresh_metrics over two years)",
        file=sys.stderr,
    )


def time_page(client: Client, url: str, repeat: int) -> tuple[float, int]:
    """(median milliseconds, queries) for GET url after one warm-up."""
    assert client.get(url).status_code == 200, url
    timings, queries = [], 0
    for _ in range(repeat):
        reset_queries()
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
        queries = len(connection.queries)
    return statistics.median(timings), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the data a previous run finished generating; refuses a database without it",
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="CI size: 300 customers, one timed request each; checks the page, not the speed",
    )
    parser.add_argument(
        "--suggested-indexes",
        action="store_true",
        help="add the indexes in SUGGESTED_INDEXES first",
    )
    args = parser.parse_args()
    if args.tiny:
        args.customers, args.repeat = 300, 1

    ensure_database()
    call_command("migrate", verbosity=0)
    if args.reuse:
        size = finished_size()
        if size is None:
            sys.exit(
                "--reuse: this database holds no completed generation (an earlier run was "
                "interrupted or never ran); run without --reuse to generate the data"
            )
        print(f"reusing the data generated for {size:,} customers", file=sys.stderr)
    else:
        generate(args.customers)
    set_suggested_indexes(args.suggested_indexes)
    staff, _ = User.objects.get_or_create(
        email=BENCH_EMAIL, defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM retention_customer), (SELECT count(*) FROM retention_job),"
            " (SELECT count(*) FROM campaigns_campaignsend) + (SELECT count(*) FROM reminders_winbacksend),"
            " (SELECT count(*) FROM reminders_servicereminder), (SELECT count(*) FROM loyalty_pointsentry),"
            " (SELECT count(*) FROM retention_outboundemail)"
        )
        counts = cursor.fetchone()
    print(
        "data: {:,} customers, {:,} jobs, {:,} campaign and win-back sends, {:,} reminders, "
        "{:,} ledger lines, {:,} emails".format(*counts)
    )
    if args.suggested_indexes:
        print("with the suggested indexes: " + ", ".join(SUGGESTED_INDEXES.values()))
    print(
        f"median of {args.repeat} GETs after a warm-up each, in-process (Django test client, "
        f"PostgreSQL {connection.cursor().connection.info.server_version // 10000}, {os.cpu_count()} cores):"
    )
    baseline, baseline_queries = time_page(client, "/admin/", args.repeat)
    print(
        f"  {'/admin/ (baseline: admin index)':<34} {baseline:8.1f} ms  {baseline_queries:3d} queries"
    )
    if not RolledUpDay.objects.filter(version=rollup.version()).exists():
        print("  (no roll-up under today's definitions in this database: rolling up now)")
        roll_up()
    query_counts = set()
    for weeks in (4, 12, 52):
        url = f"/admin/metrics/?weeks={weeks}"
        took, queries = time_page(client, url, args.repeat)
        query_counts.add(queries)
        print(f"  {url:<34} {took:8.1f} ms  {queries:3d} queries  {took / baseline:6.1f}x baseline")
    # The same pages with every day counted from the records (the roll-up set aside in a
    # transaction rolled back): what the page cost before the roll-up, and what it costs
    # on days the nightly job has not rolled up.
    print("counted from the records (no roll-up):")
    for weeks in (4, 12, 52):
        url = f"/admin/metrics/?weeks={weeks}"
        with transaction.atomic():
            RolledUpDay.objects.all().delete()
            took, queries = time_page(client, url, max(1, min(args.repeat, 3)))
            transaction.set_rollback(True)
        query_counts.add(queries)
        print(f"  {url:<34} {took:8.1f} ms  {queries:3d} queries  {took / baseline:6.1f}x baseline")
    # The result check (CI runs --tiny): the page answers (time_page asserts 200) with the
    # fixed query count its tests hold it to (less the test transaction's savepoint and
    # release), the same for every period.
    from tests.metrics.test_queries import PAGE_QUERIES

    budget = PAGE_QUERIES - 2
    if query_counts != {budget}:
        sys.exit(f"metrics page queries {sorted(query_counts)}: expected {budget} for every period")
    # The roll-up's result check: the 52-week page's every figure and table row read
    # through the roll-up equals the same page counted from the records.
    period = Period.last(52)

    def figures_and_tables():
        return [(s.figures, [(t.slug, t.csv_rows) for t in s.tables]) for s in build_report(period)]

    through_roll_up = figures_and_tables()
    with transaction.atomic():
        RolledUpDay.objects.all().delete()
        from_records = figures_and_tables()
        transaction.set_rollback(True)
    if through_roll_up != from_records:
        sys.exit("the 52-week page read through the roll-up differs from the page counted from the records")
    print("  52 weeks through the roll-up == counted from the records: every figure and table row")
    if budget > QUERY_GOAL:
        print(f"  the page's {budget} queries are over the goal of {QUERY_GOAL}")
    print("where the time goes (median of --repeat, ms; the daily figures are read once for all sections):")
    print(f"  {'section':<20}" + "".join(f"{f'{weeks} weeks':>11}" for weeks in (4, 12, 52)))
    steps = [("daily figures", lambda period: rollup.figures(period))] + [
        (build.__name__.removesuffix("_section"), build) for build in SECTIONS
    ]
    timings = {name: [] for name, _ in steps}
    for weeks in (4, 12, 52):
        period = Period.last(weeks)
        runs = {name: [] for name, _ in steps}
        for _ in range(max(args.repeat, 1)):
            with reporting_queries():
                for name, build in steps:
                    started = time.perf_counter()
                    build(period)
                    runs[name].append((time.perf_counter() - started) * 1000)
        for name in runs:
            timings[name].append(statistics.median(runs[name]))
    for name, cells in timings.items():
        print(f"  {name:<20}" + "".join(f"{cell:11.0f}" for cell in cells))


if __name__ == "__main__":
    main()

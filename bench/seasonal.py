"""Seasonal benchmark: the selection-and-write phase of send_seasonal_reminders
against a hand-written set-based SQL floor, on PostgreSQL, at 10,000 and 100,000
customers with a realistic job history.

    .venv/bin/python bench/seasonal.py                 # 10,000 and 100,000 customers
    .venv/bin/python bench/seasonal.py --sizes 20000   # other sizes
    .venv/bin/python bench/seasonal.py --tiny          # 500 customers: CI's check that it runs

Uses the database in BENCH_DATABASE_URL (default: a `retention_bench_seasonal`
database on the local server, created and migrated if missing). Every size starts
from empty tables; the data is generated in SQL with a fixed seed. The last size's
data (with the job's writes) is left in place for other benchmarks (metrics).

What "realistic" means here (as of Monday 4 January 2027, winter campaign running,
HVAC only, 10% off, like the demo's):
- 25 providers; customers joined over the last 3 years; 12% opted out of marketing,
  1% deactivated accounts.
- Each customer has a favourite service (Lawn Care 40%, Pest Control 25%, Pool
  Service 20%, HVAC 15%). 6% never booked; the others have 1 + an exponential number
  of jobs (mean about 4.6 in all, capped at 25), spaced 1-2x the service's frequency.
- The last booking was within 30 days for 20% of customers, 30-90 days for 30%,
  90-365 for 30%, 1-2 years for 20%. Jobs whose date is still ahead are scheduled;
  a few lapsed customers (about 5%) booked well ahead, so a job is scheduled ahead;
  past jobs are completed (92%) or cancelled (8%).
- 8% hold an active voucher or win-back code; 15% an expired or used one.
- 6% got a marketing email in the last 7 days (the cap), 20% an older one, and 30% a
  recent service reminder (not capped).
- 15% got last winter's code (season 2025: eligible again), 2% this winter's already.

Timed, in the same run and on the same data:
- floor: one INSERT ... SELECT statement (CTEs) that selects the same customers and
  inserts their promo codes, the codes' service types and the send rows; rolled back,
  with foreign keys checked in the statement (SET CONSTRAINTS ALL IMMEDIATE) as the
  job's commits check them.
- full floor: the floor also inserting the notifications and the outbox rows.
- job: campaigns.seasonal.queue_seasonal_offers(), i.e. the command without the
  runner's bookkeeping and without delivery: the selection with its counts by reason,
  then per batch (JOB_BATCH_SIZE per transaction) one statement writing codes, service
  types, sends, notifications and outbox rows. Delivery to Resend is excluded (see the
  email benchmark); it happens after commit, outside these transactions.
Both must pick exactly the same customers; the script checks it.

Holdout groups are on as configured (HOLDOUT_PERCENT, 10 by default): the job holds out
its share and records both sides (experiments.Assignment); the floors take the job's
held-out ids as an array, leave them out and record both sides too. Run with
HOLDOUT_PERCENT=0 for the job without holdouts.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/retention_bench_seasonal"
)
os.environ.setdefault("LOG_LEVEL", "WARNING")

AS_OF = dt.date(2027, 1, 4)  # a Monday in January: the winter campaign runs
SEED = 0.42


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


ensure_database()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

import campaigns.seasonal as seasonal  # noqa: E402
from campaigns import demo as campaigns_demo  # noqa: E402
from campaigns.models import CampaignSend  # noqa: E402
from outbox.compose import build_email
from outbox.consent import marketing_cap_window  # noqa: E402
from retention import demo  # noqa: E402
from retention.clock import start_of_business_day  # noqa: E402
from retention.scheduling import JobContext  # noqa: E402

T = start_of_business_day(AS_OF)  # the moment the job runs as of (a --date run)

TABLES = [
    "retention_user", "retention_servicetype", "retention_jobrun", "retention_outboundemail",
    "retention_notification", "retention_promocode", "campaigns_campaign",
]


def sql(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or {})
        return cursor.rowcount


def build_dataset(customers: int) -> None:
    """Empties the tables and generates `customers` customers with their history (see the module doc)."""
    sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    with transaction.atomic():
        types = demo.seed_service_types()
        campaigns = {c.season: c for c in campaigns_demo.seed_campaigns(types)}
        sql("SELECT setseed(%(seed)s)", {"seed": SEED})
        p = {"t": T, "n": customers}
        # Providers.
        sql("""INSERT INTO retention_user (password, is_superuser, email, name, is_staff, is_active, date_joined)
               SELECT '!', false, 'provider' || g || '@bench.example', 'Provider ' || g, false, true, %(t)s
               FROM generate_series(1, 25) g""", p)
        sql("""INSERT INTO retention_provider (business_name, phone, user_id)
               SELECT 'Provider ' || id || ' LLC', '555-0199', id FROM retention_user WHERE email LIKE 'provider%%'""")
        sql("""INSERT INTO retention_provider_service_types (provider_id, servicetype_id)
               SELECT p.id, s.id FROM retention_provider p CROSS JOIN retention_servicetype s""")
        # Customers.
        sql("""INSERT INTO retention_user (password, is_superuser, email, name, is_staff, is_active, date_joined)
               SELECT '!', false, 'customer' || g || '@bench.example', 'Customer ' || g, false, random() > 0.01,
                      %(t)s - random() * interval '1095 days'
               FROM generate_series(1, %(n)s) g""", p)
        sql("""INSERT INTO retention_customer (phone, marketing_opt_in, service_reminders_opt_in, created_at, user_id)
               SELECT '555-0100', random() > 0.12, true, date_joined, id
               FROM retention_user WHERE email LIKE 'customer%%'""")
        # Each customer's favourite service, number of jobs and last booking.
        sql("DROP TABLE IF EXISTS bench_profile")
        sql("""CREATE TEMP TABLE bench_profile AS
               SELECT c.id AS customer_id, st.id AS service_type_id, st.frequency_days, st.base_price,
                      CASE WHEN r.jobs < 0.06 THEN 0 ELSE least(25, 1 + floor(-ln(random()) * 3.9))::int END AS n_jobs,
                      CASE WHEN r.last < 0.20 THEN floor(random() * 30)
                           WHEN r.last < 0.50 THEN 30 + floor(random() * 60)
                           WHEN r.last < 0.80 THEN 90 + floor(random() * 275)
                           ELSE 365 + floor(random() * 365) END::int AS last_days,
                      (SELECT id FROM retention_provider ORDER BY id OFFSET (c.id %% 25) LIMIT 1) AS provider_id
               FROM retention_customer c
               CROSS JOIN LATERAL (SELECT random() AS jobs, random() AS last, random() AS fav WHERE c.id IS NOT NULL) r
               JOIN retention_servicetype st ON st.slug = CASE WHEN r.fav < 0.40 THEN 'lawn-care'
                   WHEN r.fav < 0.65 THEN 'pest-control' WHEN r.fav < 0.85 THEN 'pool-service' ELSE 'hvac' END""")
        sql("""INSERT INTO retention_job (id, customer_id, provider_id, service_type_id, scheduled_for, status, price,
                                          amount_paid, created_at, completed_at, cancelled_at, next_due_date)
               SELECT gen_random_uuid(), customer_id, provider_id, service_type_id, day,
                      CASE WHEN day >= %(t)s::date THEN 'scheduled' WHEN r < 0.08 THEN 'cancelled' ELSE 'completed' END,
                      base_price, base_price, booked_at,
                      CASE WHEN day < %(t)s::date AND r >= 0.08 THEN day + interval '14 hours' END,
                      CASE WHEN day < %(t)s::date AND r < 0.08 THEN day + interval '10 hours' END,
                      CASE WHEN day < %(t)s::date AND r >= 0.08 THEN day + frequency_days END
               FROM (
                   SELECT b.*, (b.booked_at + lead * interval '1 day')::date AS day, random() AS r
                   FROM (
                       SELECT p.*, %(t)s - (days_ago * interval '1 day') - random() * interval '10 hours' AS booked_at,
                              CASE WHEN k = 0 AND last_days BETWEEN 30 AND 90 AND random() < 0.15
                                   THEN last_days + 1 + floor(random() * 30)
                                   ELSE 2 + floor(random() * 9) END AS lead
                       FROM (
                           SELECT bp.*, k, bp.last_days + (k * bp.frequency_days * (1 + random()))::int AS days_ago
                           FROM bench_profile bp CROSS JOIN LATERAL generate_series(0, bp.n_jobs - 1) k
                       ) p
                   ) b
               ) jobs""", p)
        # Promo codes: 8% active, 15% expired or used.
        sql("""INSERT INTO retention_promocode (code, customer_id, source, discount_type, discount_value, expires_at,
                                                used_at, created_at)
               SELECT 'BN' || lpad(to_hex(c.id), 8, '0') || CASE WHEN r < 0.08 THEN 'A' ELSE 'X' END, c.id,
                      CASE WHEN random() < 0.5 THEN 'voucher' ELSE 'winback' END, 'percent', 15,
                      CASE WHEN r < 0.08 THEN %(t)s + (1 + random() * 29) * interval '1 day'
                           ELSE %(t)s - random() * interval '200 days' END,
                      CASE WHEN r >= 0.08 AND random() < 0.5 THEN %(t)s - interval '210 days' END,
                      %(t)s - interval '220 days'
               FROM (SELECT id, random() AS r FROM retention_customer) c WHERE r < 0.23""", p)
        # Email history: marketing within the cap, older marketing, recent reminders.
        sql("""INSERT INTO retention_outboundemail (idempotency_key, template, kind, customer_id, to_email, subject,
                   text_body, html_body, headers, status, attempts, last_error, provider_message_id, next_attempt_at,
                   created_at, sent_at, batch_key, as_of)
               SELECT e.kind || '/bench-' || c.id || '-' || e.n, e.template, e.kind, c.id, u.email, 'Bench', 'x', 'x',
                      '{}', 'sent', 1, '', '', e.at, e.at, e.at, '', e.at::date
               FROM retention_customer c JOIN retention_user u ON u.id = c.user_id
               CROSS JOIN LATERAL (
                   SELECT 1 AS n, 'marketing' AS kind, 'winback' AS template,
                          %(t)s - random() * interval '6 days' AS at, random() < 0.06 AS pick WHERE c.id IS NOT NULL
                   UNION ALL SELECT 2, 'marketing', 'seasonal_offer',
                          %(t)s - (8 + random() * 112) * interval '1 day', random() < 0.20 WHERE c.id IS NOT NULL
                   UNION ALL SELECT 3, 'reminder', 'service_due', %(t)s - random() * interval '6 days', random() < 0.30
                   WHERE c.id IS NOT NULL
               ) e WHERE e.pick""", p)
        # Earlier winter sends: 15% last year's (eligible again), 2% this season's.
        winter = campaigns["winter"]
        sql("DROP TABLE IF EXISTS bench_sent")
        sql("""CREATE TEMP TABLE bench_sent AS
               SELECT id AS customer_id, CASE WHEN r < 0.02 THEN 2026 ELSE 2025 END AS season_year
               FROM (SELECT id, random() AS r FROM retention_customer) c WHERE r < 0.17""")
        sql("""INSERT INTO retention_promocode (code, customer_id, source, discount_type, discount_value, expires_at,
                                                used_at, created_at)
               SELECT 'BW' || lpad(to_hex(customer_id), 8, '0') || season_year, customer_id, 'seasonal', 'percent', 10,
                      make_date(season_year + 1, 1, 31), make_date(season_year + 1, 1, 10), make_date(season_year, 12, 7)
               FROM bench_sent""")
        sql("""INSERT INTO campaigns_campaignsend (campaign_id, customer_id, season_year, promo_code_id, sent_at)
               SELECT %(campaign)s, s.customer_id, s.season_year, pc.id, pc.created_at
               FROM bench_sent s JOIN retention_promocode pc ON pc.code = 'BW' || lpad(to_hex(s.customer_id), 8, '0') || s.season_year""",
            {"campaign": winter.pk})
    sql("ANALYZE")


FLOOR_SQL = """
WITH eligible AS (
    SELECT c.id
    FROM retention_customer c JOIN retention_user u ON u.id = c.user_id
    WHERE c.marketing_opt_in AND u.is_active
      AND EXISTS (SELECT 1 FROM retention_job j WHERE j.customer_id = c.id)
      AND NOT EXISTS (SELECT 1 FROM retention_job j WHERE j.customer_id = c.id AND j.created_at >= %(recent)s)
      AND NOT EXISTS (SELECT 1 FROM retention_job j WHERE j.customer_id = c.id AND j.status = 'scheduled'
                      AND j.scheduled_for >= %(as_of)s)
      AND NOT EXISTS (SELECT 1 FROM retention_promocode p WHERE p.customer_id = c.id AND p.used_at IS NULL
                      AND p.expires_at > %(moment)s)
      AND NOT EXISTS (SELECT 1 FROM retention_outboundemail e WHERE e.customer_id = c.id AND e.kind = 'marketing'
                      AND e.as_of BETWEEN %(cap_from)s AND %(cap_to)s AND e.status IN ('pending', 'sent'))
      AND NOT EXISTS (SELECT 1 FROM campaigns_campaignsend s WHERE s.customer_id = c.id
                      AND s.campaign_id = %(campaign)s AND s.season_year = %(season_year)s)
      AND NOT EXISTS (SELECT 1 FROM experiments_assignment a WHERE a.customer_id = c.id AND a.held_out
                      AND a.campaign_id = %(campaign)s AND a.season = %(season)s)
      AND NOT c.id = ANY(%(held_out)s::bigint[])
), assigned AS (
    -- The holdout groups (experiments): the held out (the job's hash, given as an array)
    -- and the mailed, recorded.
    INSERT INTO experiments_assignment (customer_id, send, campaign_id, season, as_of, held_out, created_at)
    SELECT id, 'seasonal', %(campaign)s, %(season)s, %(as_of)s, false, now() FROM eligible
    UNION ALL
    SELECT unnest(%(held_out)s::bigint[]), 'seasonal', %(campaign)s, %(season)s, %(as_of)s, true, now()
), codes AS (
    INSERT INTO retention_promocode (code, customer_id, source, discount_type, discount_value, expires_at, created_at)
    SELECT (SELECT string_agg(substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789', 1 + floor(random() * 31)::int, 1)
                              || CASE WHEN i IN (4, 8) THEN '-' ELSE '' END, '')
            FROM generate_series(1, 12) i WHERE e.id IS NOT NULL),
           e.id, 'seasonal', 'percent', %(discount)s, %(expires)s, now()
    FROM eligible e
    RETURNING id, customer_id
), covered AS (
    INSERT INTO retention_promocode_service_types (promocode_id, servicetype_id)
    SELECT codes.id, st FROM codes CROSS JOIN unnest(%(service_types)s::bigint[]) st
)
INSERT INTO campaigns_campaignsend (campaign_id, customer_id, season_year, promo_code_id, sent_at)
SELECT %(campaign)s, customer_id, %(season_year)s, id, now() FROM codes
RETURNING customer_id
"""


# The floor again, also writing what the job writes besides codes and sends: the
# notifications and the outbox rows, with bodies of the job's length made by string
# substitution in SQL instead of template rendering.
FULL_FLOOR_SQL = FLOOR_SQL.replace(
    "RETURNING id, customer_id\n), covered", "RETURNING id, customer_id, code\n), covered"
).replace(
    """INSERT INTO campaigns_campaignsend (campaign_id, customer_id, season_year, promo_code_id, sent_at)
SELECT %(campaign)s, customer_id, %(season_year)s, id, now() FROM codes
RETURNING customer_id""",
    """, sends AS (
    INSERT INTO campaigns_campaignsend (campaign_id, customer_id, season_year, promo_code_id, sent_at)
    SELECT %(campaign)s, customer_id, %(season_year)s, id, now() FROM codes
    RETURNING id, customer_id, promo_code_id
), notes AS (
    INSERT INTO retention_notification (id, customer_id, kind, title, message, action_url, created_at)
    SELECT gen_random_uuid(), s.customer_id, 'seasonal', %(note_title)s, replace(%(note)s, '{code}', c.code),
           replace(%(path)s, '{code}', c.code), now()
    FROM sends s JOIN codes c ON c.id = s.promo_code_id
)
INSERT INTO retention_outboundemail (idempotency_key, template, kind, customer_id, to_email, subject, text_body,
    html_body, headers, status, attempts, last_error, provider_message_id, next_attempt_at, created_at, batch_key,
    as_of)
SELECT 'seasonal/' || s.id, 'seasonal_offer', 'marketing', s.customer_id, u.email, %(subject)s,
       replace(%(text)s, '{code}', c.code), replace(%(html)s, '{code}', c.code),
       jsonb_build_object('List-Unsubscribe', '<' || %(unsubscribe)s || s.customer_id || '>',
                          'List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'),
       'pending', 0, '', '', now(), now(), '', %(as_of)s
FROM sends s JOIN codes c ON c.id = s.promo_code_id
JOIN retention_customer cu ON cu.id = s.customer_id JOIN retention_user u ON u.id = cu.user_id
RETURNING customer_id""",
)


def floor_params(run) -> dict:
    # The job's holdout split, which the floor takes as given: Python's part of the job.
    held_out = run.holdout.split(seasonal.select_customers(run)[0])[1] if run.holdout else []
    return {
        "held_out": held_out,
        "season": str(run.season_year),
        "recent": start_of_business_day(AS_OF - dt.timedelta(days=seasonal.MIN_DAYS_SINCE_BOOKING - 1)),
        "as_of": AS_OF,
        "moment": run.moment,
        "cap_from": marketing_cap_window(AS_OF)[0],
        "cap_to": marketing_cap_window(AS_OF)[1],
        "campaign": run.campaign.pk,
        "season_year": run.season_year,
        "discount": run.campaign.discount_percent,
        "expires": run.expires_at,
        "service_types": [s.pk for s in run.service_types],
    }


def sample_email(run) -> dict:
    """The job's rendered email and notification for one customer, with the code as a placeholder."""
    from retention.models import Customer

    customer = Customer.objects.select_related("user").first()
    email = build_email(
        template=seasonal.EMAIL_TEMPLATE, customer=customer, kind="marketing", idempotency_key="sample",
        context=run.email_context(code="{code}", book_url=run.booking_path("{code}")),
    )
    return {"subject": email.subject, "text": email.text_body, "html": email.html_body,
            "unsubscribe": email.headers["List-Unsubscribe"][1:60], "path": run.booking_path("{code}"),
            "note_title": f"{run.campaign.emoji} {run.campaign.title}", "note": "Your personal code {code} takes 10% off."}


def run_floor(run, statement=FLOOR_SQL, extra=None) -> tuple[float, set[int]]:
    params = {**floor_params(run), **(extra or {})}
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Django's foreign keys are checked at commit (DEFERRABLE INITIALLY
            # DEFERRED); the floor is rolled back, so it checks them in the statement
            # instead, as the job's commits do.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            customers = {row[0] for row in cursor.fetchall()}
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, customers


class Stopwatch:
    """Wraps a function of campaigns.seasonal to add up the time spent in it."""

    def __init__(self, name):
        self.name, self.total, self.original = name, 0.0, getattr(seasonal, name)
        setattr(seasonal, name, self)

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.total += time.perf_counter() - started


def run_job() -> tuple[float, dict, dict[str, float]]:
    watches = [Stopwatch("select_customers"), Stopwatch("write_offers")]
    ctx = JobContext(name=seasonal.JOB_NAME, as_of=AS_OF, dry_run=False, progress_stream=open(os.devnull, "w"))
    started = time.perf_counter()
    seasonal.queue_seasonal_offers(ctx)
    elapsed = time.perf_counter() - started
    for watch in watches:
        setattr(seasonal, watch.name, watch.original)
    return elapsed, ctx.stats, {w.name: w.total for w in watches}


def measure(customers: int) -> dict:
    print(f"\n== {customers:,} customers", flush=True)
    started = time.perf_counter()
    build_dataset(customers)
    jobs = sql("SELECT 1 FROM retention_job")
    print(f"   data: {jobs:,} jobs, built in {time.perf_counter() - started:.1f}s", flush=True)
    run = seasonal.start_run(as_of=AS_OF)  # also loads the URLconf, once per process
    seasonal.select_customers(run)  # warm the cache the same way for both
    floor_seconds, floor_customers = run_floor(run)
    print(f"   floor (one SQL statement: codes and sends; rolled back): {floor_seconds:.2f}s "
          f"for {len(floor_customers):,} customers", flush=True)
    full_seconds, full_customers = run_floor(run, FULL_FLOOR_SQL, sample_email(run))
    assert full_customers == floor_customers
    print(f"   full floor (also notifications and outbox rows; rolled back): {full_seconds:.2f}s", flush=True)
    last_send = CampaignSend.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    job_seconds, stats, parts = run_job()
    job_customers = set(CampaignSend.objects.filter(pk__gt=last_send).values_list("customer_id", flat=True))
    same = job_customers == floor_customers
    print(f"   job (queue_seasonal_offers, batches of {settings.JOB_BATCH_SIZE}): {job_seconds:.2f}s, "
          f"sent {stats['sent']:,} in {stats['batches']} batches, held out {stats['heldOut']:,} "
          f"(HOLDOUT_PERCENT {settings.HOLDOUT_PERCENT}); skipped {stats['skippedByReason']}", flush=True)
    print(f"       of which selection (every customer's reason) {parts['select_customers']:.2f}s, "
          f"batches (values in Python, then one statement each) {parts['write_offers']:.2f}s", flush=True)
    print(f"   same customers as the floor: {same}; job / floor = {job_seconds / floor_seconds:.2f}x, "
          f"job / full floor = {job_seconds / full_seconds:.2f}x", flush=True)
    if not same:
        raise SystemExit("The job and the floor selected different customers.")
    return {"customers": customers, "jobs": jobs, "sent": stats["sent"], "floor": floor_seconds, "job": job_seconds,
            "full": full_seconds,
            "select": parts["select_customers"], "write": parts["write_offers"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--tiny", action="store_true", help="CI size: 500 customers, the same checks")
    args = parser.parse_args()
    if args.tiny:
        args.sizes = [500]
    call_command("migrate", verbosity=0)
    print(f"Seasonal benchmark on {connection.settings_dict['NAME']} (PostgreSQL "
          f"{connection.cursor().connection.info.server_version}), as of {AS_OF}, JOB_BATCH_SIZE={settings.JOB_BATCH_SIZE}")
    results = [measure(size) for size in args.sizes]
    print("\ncustomers | jobs | sent | floor s | full floor s | job s | job/floor | job/full floor | "
          "job ms per sent | selection s | batches s")
    for r in results:
        print(f"{r['customers']:,} | {r['jobs']:,} | {r['sent']:,} | {r['floor']:.2f} | {r['full']:.2f} | "
              f"{r['job']:.2f} | {r['job'] / r['floor']:.1f}x | {r['job'] / r['full']:.1f}x | "
              f"{1000 * r['job'] / max(r['sent'], 1):.2f} | {r['select']:.2f} | {r['write']:.2f}")
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"growth {first['customers']:,} -> {last['customers']:,}: job x{last['job'] / first['job']:.1f}, "
              f"floor x{last['floor'] / first['floor']:.1f}, customers x{last['customers'] / first['customers']:.0f}")


if __name__ == "__main__":
    main()

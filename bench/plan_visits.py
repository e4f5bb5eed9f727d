"""Benchmark: schedule_plan_visits's selection-and-write phase against a hand-written
set-based SQL floor, in the same run, on the same data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention .venv/bin/python bench/plan_visits.py [sizes...]

Sizes are active subscriptions (default: 10000 100000; `1000` is the tiny size for CI).
For each size it builds a fresh database (bench_<name>, dropped at the end): half the
subscriptions on a weekly pool plan, half on a fortnightly lawn plan, each with its
last visit booked so that exactly one next visit falls within PLAN_BOOK_AHEAD_DAYS
(spread over the next 14 days), 20 providers, and one subscription in twenty paused.
Then it times, on the same rows:
  job:   plans.visits.schedule_plan_visits (the subscriptions due with their last kept
         visit, the providers and their days, the dates and providers worked out in
         Python, then per batch of JOB_BATCH_SIZE one statement writing visits and jobs
         and one writing the emails, each email rendered once per plan, day and provider;
         delivery is not included),
  floor: one transaction of two SQL statements doing the same selection and writing
         the same visits, jobs and emails, the provider picked round-robin per service
         and the email bodies filled in by SQL replace() into the template rendered once
         with placeholders (so the floor writes emails of the same size),
deleting what the first wrote before the second runs, and prints seconds, rows written
and the ratio job/floor.
"""

import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from outbox.models import OutboundEmail  # noqa: E402
from plans.models import Plan, PlanVisit, Subscription  # noqa: E402
from plans.visits import schedule_plan_visits, visit_email_context  # noqa: E402
from retention.demo import SERVICE_TYPES  # noqa: E402
from retention.models import Customer, Job, Provider, ServiceType, User  # noqa: E402
from retention.scheduling import JobContext  # noqa: E402

AS_OF = dt.date(2026, 6, 15)
SEED = 20260615
PROVIDERS = 20

FLOOR_SELECT = """
CREATE TEMPORARY TABLE floor_due ON COMMIT DROP AS
SELECT s.id AS subscription_id, s.customer_id, p.service_type_id, p.interval_days, p.discount_percent,
       p.name AS plan_name, st.base_price, st.name AS service_name,
       coalesce(last.day + p.interval_days, s.start_date) AS anchor
FROM plans_subscription s
JOIN plans_plan p ON p.id = s.plan_id
JOIN retention_servicetype st ON st.id = p.service_type_id
LEFT JOIN LATERAL (
    SELECT max(v.scheduled_for) AS day FROM plans_planvisit v
    WHERE v.subscription_id = s.id AND v.status <> 'called_off'
) last ON true
WHERE s.status = 'active' AND coalesce(last.day + p.interval_days, s.start_date) <= %(horizon)s
"""
FLOOR_WRITE = """
WITH offering AS (
    SELECT pst.servicetype_id AS service_type_id, pst.provider_id, pr.business_name,
           row_number() OVER (PARTITION BY pst.servicetype_id ORDER BY pr.business_name) - 1 AS n,
           count(*) OVER (PARTITION BY pst.servicetype_id) AS providers
    FROM retention_provider_service_types pst JOIN retention_provider pr ON pr.id = pst.provider_id
),
wanted AS (
    SELECT d.*, n.first + step * d.interval_days AS day, gen_random_uuid() AS job_id,
           round(d.base_price * (100 - d.discount_percent) / 100.0, 2) AS amount,
           row_number() OVER (PARTITION BY d.service_type_id ORDER BY d.subscription_id, step) AS k
    FROM floor_due d
    -- the next visit, moved past days gone by whole intervals; then every interval to the horizon
    CROSS JOIN LATERAL (
        SELECT d.anchor + d.interval_days * greatest(0, (%(as_of)s::date - d.anchor + d.interval_days - 1) / d.interval_days) AS first
    ) n
    CROSS JOIN LATERAL generate_series(0, (%(horizon)s::date - n.first) / d.interval_days) AS step
),
assigned AS (
    SELECT w.*, o.provider_id, o.business_name
    FROM wanted w JOIN offering o ON o.service_type_id = w.service_type_id AND o.n = w.k %% o.providers
),
visits AS (
    INSERT INTO plans_planvisit (subscription_id, job_id, scheduled_for, status, created_at)
    SELECT subscription_id, job_id, day, 'booked', now() FROM assigned
    ON CONFLICT DO NOTHING
    RETURNING id, job_id
),
jobs AS (
    INSERT INTO retention_job (id, customer_id, provider_id, service_type_id, scheduled_for, status, price, amount_paid, created_at)
    SELECT a.job_id, a.customer_id, a.provider_id, a.service_type_id, a.day, 'scheduled', a.base_price, a.amount, now()
    FROM assigned a JOIN visits USING (job_id)
    RETURNING id
),
filled AS (
    SELECT a.*, v.id AS visit_id, u.email, split_part(u.name, ' ', 1) AS first_name,
           to_char(a.day, 'FMDay, FMMonth FMDD') AS day_text
    FROM assigned a JOIN visits v USING (job_id) JOIN jobs j ON j.id = a.job_id
    JOIN retention_customer c ON c.id = a.customer_id JOIN retention_user u ON u.id = c.user_id
)
INSERT INTO retention_outboundemail (
    idempotency_key, template, kind, customer_id, to_email, subject, text_body, html_body, headers,
    status, attempts, last_error, provider_message_id, next_attempt_at, created_at, batch_key, as_of)
SELECT 'plan_visit/' || visit_id, 'plan_visit_booked', 'transactional', customer_id, email,
       replace(replace(%(subject)s, '@@PLAN@@', plan_name), '@@DAY@@', day_text),
       replace(replace(replace(replace(replace(replace(%(text)s, '@@FIRST@@', first_name), '@@PLAN@@', plan_name),
           '@@DAY@@', day_text), '@@PROVIDER@@', business_name), '@@service@@', lower(service_name)), '@@PRICE@@', amount::text),
       replace(replace(replace(replace(replace(replace(%(html)s, '@@FIRST@@', first_name), '@@PLAN@@', plan_name),
           '@@DAY@@', day_text), '@@PROVIDER@@', business_name), '@@service@@', lower(service_name)), '@@PRICE@@', amount::text),
       '{}', 'pending', 0, '', '', now(), now(), '', %(as_of)s::date
FROM filled
ON CONFLICT (idempotency_key) DO NOTHING
"""


def floor_templates() -> dict:
    """The visit email rendered once with placeholders, for the floor to fill in."""
    from outbox.compose import build_email

    customer = Customer(user=User(email="x@example.com", name="@@FIRST@@"))
    context = visit_email_context(
        plan_name="@@PLAN@@", interval_days=7, service="@@SERVICE@@", day=AS_OF, provider="@@PROVIDER@@", price="@@PRICE@@"
    )
    context["visit_on"] = "@@DAY@@"
    email = build_email(
        template="plan_visit_booked", customer=customer, kind="transactional", idempotency_key="x", context=context
    )
    return {"subject": email.subject, "text": email.text_body, "html": email.html_body}


def build_data(size: int) -> None:
    rng = random.Random(SEED)
    types = {
        slug: ServiceType.objects.create(name=name, slug=slug, frequency_days=freq, base_price=price)
        for name, slug, freq, price in SERVICE_TYPES
    }
    pool = Plan.objects.create(name="Weekly pool care", service_type=types["pool-service"], interval_days=7, discount_percent=10, bonus_points_percent=20)
    lawn = Plan.objects.create(name="Fortnightly lawn care", service_type=types["lawn-care"], interval_days=14, discount_percent=15, bonus_points_percent=10)
    providers = []
    for i in range(PROVIDERS):
        user = User.objects.create(email=f"p{i}@bench.example", name=f"Provider {i}", password="!")
        provider = Provider.objects.create(user=user, business_name=f"Bench Services {i:02d}", phone="555-0199")
        provider.service_types.set([types["pool-service"], types["lawn-care"]])
        providers.append(provider)
    users = User.objects.bulk_create(
        (User(email=f"c{i}@bench.example", name=f"Customer {i}", password="!") for i in range(size)), batch_size=5000
    )
    customers = Customer.objects.bulk_create((Customer(user=u) for u in users), batch_size=5000)
    subscriptions, jobs, last_days = [], [], []
    for i, customer in enumerate(customers):
        plan = pool if i % 2 == 0 else lawn
        # The last visit leaves exactly one next visit within the 14 days ahead.
        last = AS_OF + dt.timedelta(days=7 - rng.randint(0, 6)) if plan is pool else AS_OF - dt.timedelta(days=rng.randint(0, 13))
        status = "paused" if i % 20 == 19 else "active"
        subscriptions.append(Subscription(customer=customer, plan=plan, start_date=last - dt.timedelta(days=plan.interval_days * 4), status=status))
        price = plan.service_type.base_price
        jobs.append(Job(customer=customer, provider=providers[i % PROVIDERS], service_type=plan.service_type, scheduled_for=last, price=price, amount_paid=price,
                        status="scheduled" if last >= AS_OF else "completed",
                        completed_at=None if last >= AS_OF else timezone.now(), next_due_date=None if last >= AS_OF else last + dt.timedelta(days=30)))
        last_days.append(last)
    Subscription.objects.bulk_create(subscriptions, batch_size=5000)
    Job.objects.bulk_create(jobs, batch_size=5000)
    PlanVisit.objects.bulk_create(
        (PlanVisit(subscription=s, job=j, scheduled_for=d) for s, j, d in zip(subscriptions, jobs, last_days, strict=True)), batch_size=5000
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def written() -> tuple[int, int, int]:
    return (PlanVisit.objects.filter(pk__gt=BASE["visit"]).count(), Job.objects.count() - BASE["jobs"], OutboundEmail.objects.count())


def clear_written() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM plans_planvisit WHERE id > %s RETURNING job_id", [BASE["visit"]])
        job_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("DELETE FROM retention_job WHERE id = ANY(%s)", [job_ids])
        cursor.execute("TRUNCATE retention_outboundemail")
        cursor.execute("VACUUM ANALYZE plans_planvisit, retention_job")


BASE: dict = {}


def time_job() -> tuple[float, dict]:
    ctx = JobContext(name="schedule_plan_visits", as_of=AS_OF, dry_run=False, progress_stream=io.StringIO())
    started, cpu = time.perf_counter(), time.process_time()
    schedule_plan_visits(ctx)
    ctx.stats["cpuSeconds"] = time.process_time() - cpu
    return time.perf_counter() - started, ctx.stats


def time_floor() -> float:
    horizon = AS_OF + dt.timedelta(days=settings.PLAN_BOOK_AHEAD_DAYS)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # generate_series's default estimate (1,000 rows a call) makes the write look
        # expensive enough for PostgreSQL to JIT-compile it: seconds of compiling for a
        # statement that runs in a fraction of that. A floor runs without it.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(FLOOR_SELECT, {"horizon": horizon})
        cursor.execute(FLOOR_WRITE, {"horizon": horizon, "as_of": AS_OF, **floor_templates()})
    return time.perf_counter() - started


def bench(size: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE plans_subscriptionchange, plans_planvisit, plans_subscription, plans_plan, retention_outboundemail, "
            "retention_job, retention_customer, retention_provider_service_types, retention_provider, "
            "retention_servicetype, retention_user CASCADE"
        )
    started = time.perf_counter()
    build_data(size)
    BASE.update(visit=PlanVisit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0, jobs=Job.objects.count())
    print(f"  built {size:,} subscriptions in {time.perf_counter() - started:.1f}s", flush=True)
    job_s, stats = time_job()
    job_rows = written()
    clear_written()
    floor_s = time_floor()
    floor_rows = written()
    assert job_rows == floor_rows, f"job wrote {job_rows}, floor wrote {floor_rows}"
    assert not OutboundEmail.objects.filter(html_body__contains="@@").exists(), "the floor left a placeholder"
    result = {"size": size, "booked": job_rows[0], "emails": job_rows[2], "job_s": job_s, "floor_s": floor_s,
              "ratio": job_s / floor_s, "cpu_s": stats["cpuSeconds"], "moved": stats["movedToLaterDay"]}
    print(
        f"  job {job_s:.2f}s (Python CPU {stats['cpuSeconds']:.2f}s), floor {floor_s:.2f}s, ratio {result['ratio']:.2f}x; "
        f"{job_rows[0]:,} visits and jobs, {job_rows[2]:,} emails; moved {stats['movedToLaterDay']}",
        flush=True,
    )
    return result


def main(sizes: list[int]) -> None:
    settings.DATABASES["default"]["TEST"]["NAME"] = f"bench_{settings.DATABASES['default']['NAME']}"
    settings.PROVIDER_JOBS_PER_DAY = 1_000_000  # room for every visit: the floor does not model capacity
    print(
        f"schedule_plan_visits selection-and-write vs SQL floor; PostgreSQL {connection.cursor().connection.info.server_version}, "
        f"JOB_BATCH_SIZE={settings.JOB_BATCH_SIZE}, as of {AS_OF}",
        flush=True,
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    floor_templates()  # compile the templates before anything is timed
    try:
        results = [bench(size) for size in sizes]
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print("\n| active subscriptions | visits booked | emails | job (s) | SQL floor (s) | job / floor | job per visit (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['size']:,} | {r['booked']:,} | {r['emails']:,} | {r['job_s']:.2f} | {r['floor_s']:.2f} | "
            f"{r['ratio']:.2f}x | {1000 * r['job_s'] / max(r['booked'], 1):.3f} |"
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(
            f"\nGrowth {a['size']:,} -> {b['size']:,} subscriptions ({b['size'] / a['size']:.0f}x): "
            f"job {b['job_s'] / a['job_s']:.1f}x, floor {b['floor_s'] / a['floor_s']:.1f}x"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    main([1_000] if args == ["--tiny"] else [int(arg) for arg in args] or [10_000, 100_000])

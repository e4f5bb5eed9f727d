"""Benchmark: check_service_due's selection-and-write phase against a hand-written
set-based SQL floor, in the same run, on the same data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/retention .venv/bin/python bench/service_due.py [sizes... | --tiny]

Sizes are completed jobs (default: 10000 100000), over half as many customers. For
each size it builds a fresh database (bench_<name>, dropped at the end), writes the
data, then times, on the same rows:
  job:   reminders.service_due.check_service_due (counts by reason, target list,
         per batch of JOB_BATCH_SIZE customers: the reminders' INSERT ... SELECT
         re-checking eligibility, the notifications' and the emails' INSERTs; the
         emails rendered once per distinct content; delivery is not included),
  floor: two SQL statements doing the same selection and the same three inserts,
         the email bodies filled in by SQL replace() into the templates rendered
         once with placeholders (so the floor writes emails of the same size),
deleting what the first wrote before the second runs, and prints seconds, rows
written, the ratio job/floor, and the time and number of the job's renderings.

The data per customer: two completed jobs. Half have lawn care done twice (the first
is rebooked by the second, which is due within days); the others have two different
services whose due dates spread from 45 days overdue to 15 days ahead, so some fall
outside the window. One customer in ten has reminders turned off. Each job is done by
one of 25 providers (its own business name and phone number), chosen at random: the
email names each service's provider and due date, which the job puts in as slots of
a rendering shared by every provider and date. (The floor's email names one provider per customer: the same
size, one SQL replace().) --tiny runs one size of 400 jobs with the same checks, for CI.
"""

import datetime as dt
import io
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")  # development defaults (no SECRET_KEY needed); no query logging outside DEBUG views

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from outbox.models import OutboundEmail  # noqa: E402
from outbox.stencil import EmailStencil  # noqa: E402
from reminders import service_due  # noqa: E402
from reminders.models import ServiceReminder  # noqa: E402
from reminders.service_due import check_service_due, due_window  # noqa: E402
from retention.demo import SERVICE_TYPES  # noqa: E402
from retention.models import Customer, Job, Notification, Provider, ServiceType, User
from retention.scheduling import JobContext  # noqa: E402

AS_OF = dt.date(2026, 6, 15)
SEED = 20260615
PROVIDERS = 25
PROVIDER_WORDS = ["Green", "Blue Sky", "Evergreen", "Sunrise", "Oak & Elm", "Clearwater", "Summit", "Prairie"]
PROVIDER_KINDS = ["Home Services", "Lawn & Garden", "Pools", "Pest Solutions", "Heating & Air"]
TINY = [400]  # --tiny: CI checks the job and the floor agree, in seconds

# The floor: the same selection and the same three inserts as two plain statements in
# one transaction, with the email bodies filled in by SQL: each template is rendered
# once with placeholder values (floor_templates) and replace() puts each customer's
# name, services, due date, provider and link in, so the floor writes emails of the
# same size. The targets go to a temporary table first: selecting them inside the
# INSERT that fills reminders_servicereminder would make PostgreSQL re-scan that
# growing table once per candidate (quadratic), which is not a floor.
FLOOR_SELECT = """
CREATE TEMPORARY TABLE floor_targets ON COMMIT DROP AS
SELECT j.id, j.customer_id, j.next_due_date, j.service_type_id, j.provider_id
FROM retention_job j
JOIN retention_customer c ON c.id = j.customer_id
WHERE j.status = 'completed'
  AND j.next_due_date BETWEEN %(start)s AND %(end)s
  AND c.service_reminders_opt_in
  AND EXISTS (SELECT 1 FROM retention_user u WHERE u.id = c.user_id AND u.is_active)
  AND NOT EXISTS (
      SELECT 1 FROM reminders_servicereminder r WHERE r.job_id = j.id AND r.due_date = j.next_due_date)
  AND NOT EXISTS (
      SELECT 1 FROM retention_job k
      WHERE k.customer_id = j.customer_id AND k.service_type_id = j.service_type_id AND k.id <> j.id
        AND k.status IN ('scheduled', 'completed')
        AND ((k.status = 'scheduled' AND k.scheduled_for >= %(as_of)s)
             OR (k.status = 'completed' AND k.completed_at > j.completed_at)
             OR k.created_at > j.completed_at))
"""
FLOOR_WRITE = """
WITH reminded AS (
    INSERT INTO reminders_servicereminder (job_id, customer_id, due_date, sent_at)
    SELECT id, customer_id, next_due_date, now() FROM floor_targets
    RETURNING id, customer_id, job_id
),
per_customer AS (
    SELECT r.customer_id, min(r.id) AS first_id, count(*) AS n,
           string_agg(st.name, ', ' ORDER BY t.next_due_date) AS names,
           min(t.next_due_date) AS due, min(st.slug) AS slug,
           min(pr.business_name) AS provider, min(pr.phone) AS phone
    FROM reminded r
    JOIN floor_targets t ON t.id = r.job_id
    JOIN retention_servicetype st ON st.id = t.service_type_id
    JOIN retention_provider pr ON pr.id = t.provider_id
    GROUP BY r.customer_id
),
notified AS (
    INSERT INTO retention_notification (id, customer_id, kind, title, message, action_url, created_at)
    SELECT gen_random_uuid(), customer_id, 'service_due', names || ' due', n || ' services due',
           '/customer-portal/services/', now()
    FROM per_customer
    RETURNING 1
),
filled AS (
    SELECT p.*, u.email, u.name AS first_name, to_char(p.due, 'FMDay, FMMonth FMDD') AS due_on
    FROM per_customer p
    JOIN retention_customer c ON c.id = p.customer_id
    JOIN retention_user u ON u.id = c.user_id
)
INSERT INTO retention_outboundemail (
    idempotency_key, template, kind, customer_id, to_email, subject, text_body, html_body, headers,
    status, attempts, last_error, provider_message_id, next_attempt_at, created_at, batch_key, as_of)
SELECT 'service_due/' || first_id, 'service_due', 'reminder', customer_id, email,
       replace(replace(%(subject)s, '@@NAME@@', names), '@@name@@', lower(names)),
       replace(replace(replace(replace(replace(replace(replace(%(text)s,
           '@@FIRST@@', first_name), '@@NAME@@', names), '@@name@@', lower(names)), '@@DUE@@', due_on),
           '@@PROVIDER@@', provider), '@@PHONE@@', phone), '@@SLUG@@', slug),
       replace(replace(replace(replace(replace(replace(replace(%(html)s,
           '@@FIRST@@', first_name), '@@NAME@@', names), '@@name@@', lower(names)), '@@DUE@@', due_on),
           '@@PROVIDER@@', provider), '@@PHONE@@', phone), '@@SLUG@@', slug),
       '{}', 'pending', 0, '', '', now(), now(), '', %(as_of)s
FROM filled
ON CONFLICT (idempotency_key) DO NOTHING
"""


def floor_templates() -> dict:
    """The service-due email rendered once with placeholders, for the floor to fill in."""
    from outbox.compose import build_email
    from retention.models import Customer, User

    customer = Customer(user=User(email="x@example.com", name="@@FIRST@@"))
    service = {
        "name": "@@NAME@@", "due_date": AS_OF, "due_on": "@@DUE@@", "when": "in 2 days", "urgency": "soon",
        "provider_name": "@@PROVIDER@@", "provider_phone": "@@PHONE@@", "provider_tel": "tel:@@PHONE@@",
        "book_url": "http://127.0.0.1:8000/customer-portal/book/?service=@@SLUG@@",
    }
    email = build_email(
        template="service_due", customer=customer, kind="reminder", idempotency_key="x",
        context={"services": [service], "services_url": "http://127.0.0.1:8000/customer-portal/services/"},
    )
    return {"subject": email.subject, "text": email.text_body, "html": email.html_body}


def aware(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def build_data(jobs: int) -> None:
    rng = random.Random(SEED)
    types = {
        slug: ServiceType.objects.create(name=name, slug=slug, frequency_days=freq, base_price=price)
        for name, slug, freq, price in SERVICE_TYPES
    }
    # Realistic providers: PROVIDERS businesses, each with its own name and phone number,
    # so the emails differ by provider as they would in production.
    providers = [
        Provider.objects.create(
            user=User.objects.create(email=f"provider{i}@bench.example", name=f"Provider {i}", password="!"),
            business_name=f"{rng.choice(PROVIDER_WORDS)} {rng.choice(PROVIDER_KINDS)} {i}",
            phone=f"(555) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
        )
        for i in range(PROVIDERS)
    ]
    n_customers = jobs // 2
    users = User.objects.bulk_create(
        (User(email=f"c{i}@bench.example", name=f"Customer {i}", password="!") for i in range(n_customers)),
        batch_size=5000,
    )
    customers = Customer.objects.bulk_create(
        (Customer(user=u, service_reminders_opt_in=rng.random() >= 0.1) for u in users), batch_size=5000
    )
    slugs = list(types)
    rows = []
    for i, customer in enumerate(customers):
        if i % 2 == 0:  # lawn care twice: the second rebooks the first and is due within days
            first = AS_OF - dt.timedelta(days=rng.randint(30, 40))
            second = AS_OF - dt.timedelta(days=rng.randint(11, 16))
            plan = [(types["lawn-care"], first), (types["lawn-care"], second)]
        else:
            a, b = rng.sample(slugs, 2)
            plan = []
            for slug in (a, b):
                due = AS_OF + dt.timedelta(days=rng.randint(-45, 15))
                plan.append((types[slug], due - dt.timedelta(days=types[slug].frequency_days)))
        for service, done in plan:
            rows.append(
                Job(
                    customer=customer,
                    provider=rng.choice(providers),
                    service_type=service,
                    scheduled_for=done,
                    status=Job.Status.COMPLETED,
                    price=service.base_price,
                    amount_paid=Decimal(service.base_price),
                    created_at=aware(done - dt.timedelta(days=3), 9),
                    completed_at=aware(done),
                    next_due_date=service.next_due_date(done),
                )
            )
    Job.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def written() -> tuple[int, int, int]:
    return (ServiceReminder.objects.count(), Notification.objects.count(), OutboundEmail.objects.count())


def distinct_service_lists() -> int:
    """How many distinct lists of services due (in due-date order) the reminded customers have."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(DISTINCT services) FROM (
                   SELECT r.customer_id, array_agg(st.name ORDER BY r.due_date, st.name, j.id) AS services
                   FROM reminders_servicereminder r JOIN retention_job j ON j.id = r.job_id
                   JOIN retention_servicetype st ON st.id = j.service_type_id
                   GROUP BY r.customer_id) AS per_customer"""
        )
        return cursor.fetchone()[0]


def clear_written() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE reminders_servicereminder, retention_notification, retention_outboundemail")
        cursor.execute("VACUUM ANALYZE reminders_servicereminder")


class RenderTimer:
    """Stands in for EmailStencil in reminders.service_due (which renders once per
    distinct email content, for any customer), adding up the seconds spent rendering
    templates and the renderings, so the figures can say how much of the job is
    rendering. Putting each customer's short name into a rendering is not counted: it
    is a str.replace."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0
        timer = self

        class TimedStencil(EmailStencil):
            @classmethod
            def render(cls, **kwargs):
                started = time.perf_counter()
                try:
                    return EmailStencil.render(**kwargs)
                finally:
                    timer.seconds += time.perf_counter() - started
                    timer.calls += 1

        self.stencil = TimedStencil


def time_job() -> tuple[float, RenderTimer, dict]:
    ctx = JobContext(name="check_service_due", as_of=AS_OF, dry_run=False, progress_stream=io.StringIO())
    timer = RenderTimer()
    service_due.EmailStencil = timer.stencil
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        check_service_due(ctx)
        seconds = time.perf_counter() - started
        ctx.stats["cpuSeconds"] = time.process_time() - cpu_started
    finally:
        service_due.EmailStencil = EmailStencil
    return seconds, timer, ctx.stats


def time_floor() -> float:
    start, end = due_window(AS_OF)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FLOOR_SELECT, {"start": start, "end": end, "as_of": AS_OF})
        cursor.execute(FLOOR_WRITE, {**floor_templates(), "as_of": AS_OF})
    return time.perf_counter() - started


def bench(jobs: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reminders_servicereminder, retention_notification, retention_outboundemail, retention_job, "
            "retention_customer, retention_provider_service_types, retention_provider, retention_servicetype, "
            "retention_user CASCADE"
        )
    started = time.perf_counter()
    build_data(jobs)
    print(f"  built {jobs:,} completed jobs over {jobs // 2:,} customers in {time.perf_counter() - started:.1f}s", flush=True)
    job_seconds, renders, stats = time_job()
    render_seconds = renders.seconds
    job_rows = written()
    lists = distinct_service_lists()
    clear_written()
    floor_seconds = time_floor()
    floor_rows = written()
    assert job_rows == floor_rows, f"job wrote {job_rows}, floor wrote {floor_rows}"
    assert not OutboundEmail.objects.filter(html_body__contains="@@").exists(), "the floor left a placeholder"
    # One rendering per distinct list of services the emails hold, whatever the due
    # dates and providers (while the render cache holds them all).
    if lists <= service_due.RENDER_CACHE_SIZE:
        assert renders.calls == lists, f"{renders.calls} renderings for {lists} distinct lists of services due"
    result = {
        "jobs": jobs,
        "reminded": job_rows[0],
        "emails": job_rows[2],
        "job_s": job_seconds,
        "floor_s": floor_seconds,
        "ratio": job_seconds / floor_seconds,
        "render_s": render_seconds,
        "renders": renders.calls,
        "job_cpu_s": stats["cpuSeconds"],
        "ratio_without_render": (job_seconds - render_seconds) / floor_seconds,
        "skipped": stats["skippedByReason"],
    }
    print(
        f"  job {job_seconds:.2f}s (Python CPU {stats['cpuSeconds']:.2f}s, {renders.calls:,} renderings "
        f"{render_seconds:.2f}s), floor {floor_seconds:.2f}s, "
        f"ratio {result['ratio']:.2f}x ({result['ratio_without_render']:.2f}x without rendering); "
        f"{job_rows[0]:,} reminders, {job_rows[2]:,} emails; skipped {stats['skippedByReason']}",
        flush=True,
    )
    return result


def main(sizes: list[int]) -> None:
    settings.DATABASES["default"]["TEST"]["NAME"] = f"bench_{settings.DATABASES['default']['NAME']}"
    # The database named in DATABASE_URL need not exist: this works in bench_<name>.
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(
        f"check_service_due selection-and-write vs SQL floor; PostgreSQL {connection.cursor().connection.info.server_version}, "
        f"JOB_BATCH_SIZE={settings.JOB_BATCH_SIZE}, as of {AS_OF}",
        flush=True,
    )
    # Once per process, before anything is timed: the first reverse() imports the URL
    # configuration (about 0.13 s) and the first rendering compiles the templates. The
    # job, timed first, used to pay both alone, which at 10,000 jobs is half the floor.
    floor_templates()
    try:
        results = [bench(size) for size in sizes]
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(
        "\n| completed jobs | reminders | emails | job (s) | of which rendering (s) | SQL floor (s) "
        "| job / floor | job less rendering / floor | job per reminder (ms) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['jobs']:,} | {r['reminded']:,} | {r['emails']:,} | {r['job_s']:.2f} | {r['render_s']:.2f} | "
            f"{r['floor_s']:.2f} | {r['ratio']:.2f}x | {r['ratio_without_render']:.2f}x | "
            f"{1000 * r['job_s'] / max(r['reminded'], 1):.3f} |"
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        print(
            f"\nGrowth {a['jobs']:,} -> {b['jobs']:,} jobs ({b['jobs'] / a['jobs']:.0f}x): "
            f"job {b['job_s'] / a['job_s']:.1f}x, floor {b['floor_s'] / a['floor_s']:.1f}x"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(TINY if args == ["--tiny"] else [int(arg) for arg in args] or [10_000, 100_000])

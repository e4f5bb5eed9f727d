"""Delivery benchmark: 20,000 queued emails to the fake Resend server limited to R
requests/second (R = 10 unless --rate). Prints emails/second against the ceiling
R x 100 (100 emails per batch request) and the ratio, with the rate-limit violations
the server counted (goal: >= 90% of the ceiling, zero violations).

For comparison it first measures, in the same run, the delivery pipeline with no
rate limit on a smaller outbox: the machinery's own speed on this machine, so the
figure shows the limit, not the code, is what bounds the throughput.

    .venv/bin/python bench/delivery.py [--emails 20000] [--rate 10] [--baseline-emails 3000]

Uses DATABASE_URL if set, else PostgreSQL at 127.0.0.1 in a database
`retention_bench` (created and migrated if missing). It empties that database's outbox.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/retention_bench")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retention.settings")


def ensure_database() -> None:
    import environ
    import psycopg

    db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    admin = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
    if db.get("PASSWORD"):
        admin += f" password={db['PASSWORD']}"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--emails", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=10, help="requests per second the fake server allows")
    parser.add_argument("--baseline-emails", type=int, default=3_000, help="0 skips the unlimited baseline")
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    import resend
    from django.conf import settings
    from django.core.management import call_command

    from retention.delivery import deliver_pending
    from retention.fake_resend import FakeResend
    from retention.models import OutboundEmail

    call_command("migrate", verbosity=0)
    html = "<table role=\"presentation\" width=\"100%\"><tr><td style=\"padding:24px;font-family:Arial\">" + (
        "<p style=\"margin:0 0 16px\">Spring is here: book lawn care this month and take 20% off.</p>" * 30
    ) + "</td></tr></table>"
    text = "Spring is here: book lawn care this month and take 20% off.\n" * 10

    def queue(n: int, tag: str) -> None:
        OutboundEmail.objects.all().delete()
        rows = [
            OutboundEmail(
                idempotency_key=f"marketing/bench-{tag}-{i}", template="bench", kind="transactional",
                to_email=f"customer{i}@example.com", subject=f"Your spring offer #{i}",
                text_body=text, html_body=html,
                headers={"List-Unsubscribe": f"<https://retention.example/u/{i}>",
                         "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            )
            for i in range(n)
        ]
        OutboundEmail.objects.bulk_create(rows, batch_size=2000)

    def run(n: int, rate: int | None, tag: str) -> dict:
        queue(n, tag)
        fake = FakeResend(rate_limit=rate).start()
        resend.api_url, resend.api_key = fake.url, fake.api_key
        settings.RESEND_API_KEY, settings.RESEND_API_URL = fake.api_key, fake.url
        settings.RESEND_REQUESTS_PER_SECOND = rate or 1000
        settings.EMAIL_BATCH_SIZE = 100
        try:
            started = time.perf_counter()
            stats = deliver_pending()
            elapsed = time.perf_counter() - started
        finally:
            fake.stop()
        accepted = len(fake.emails)
        assert stats["sent"] == n == accepted, (stats, accepted)
        return {
            "emails": n, "seconds": elapsed, "rate": accepted / elapsed, "requests": len(fake.requests),
            "violations": fake.violations, "max_in_second": fake.max_requests_in_any_second(statuses=(200,)),
        }

    print(f"Delivery benchmark: batches of 100 to the fake Resend server, {settings.RESEND_MAX_IN_FLIGHT} requests in flight",
          file=sys.stderr)
    if args.baseline_emails:
        base = run(args.baseline_emails, None, "base")
        print(f"baseline (no rate limit): {base['emails']} emails in {base['seconds']:.2f}s = "
              f"{base['rate']:.0f} emails/s ({base['requests']} requests)")
    res = run(args.emails, args.rate, "limited")
    ceiling = args.rate * 100
    print(f"limited to {args.rate} requests/s: {res['emails']} emails in {res['seconds']:.2f}s = "
          f"{res['rate']:.0f} emails/s ({res['requests']} requests)")
    print(f"ceiling R x 100 = {ceiling} emails/s; ratio {res['rate'] / ceiling:.1%}")
    print(f"rate-limit violations (429s from the server): {res['violations']}; "
          f"most accepted requests in any one second: {res['max_in_second']} (limit {args.rate})")
    OutboundEmail.objects.all().delete()


if __name__ == "__main__":
    main()

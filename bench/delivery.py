"""Delivery benchmark: 20,000 queued emails to the fake Resend server limited to R
requests/second (R = 10 unless --rate). Prints emails/second against the ceiling
R x 100 (100 emails per batch request) and the ratio, with the rate-limit violations
the server counted (goal: >= 90% of the ceiling, zero violations).

For comparison it first measures, in the same run, the delivery pipeline with no
rate limit on a smaller outbox: the machinery's own speed on this machine, so the
figure shows the limit, not the code, is what bounds the throughput.

With --processes N (3: the multi-process mode), N separate processes deliver the same
outbox at once, each calling deliver_pending() until it is empty, as web workers and
cron do on several hosts: they share nothing but the database, so the rate they keep
together is the shared one (outbox.ratelimit).

The fake server runs in its own process (`python -m tests.fake_resend`), as
Resend is remote: it stamps each request's arrival and counts the 429s it answered.

    .venv/bin/python bench/delivery.py [--emails 20000] [--rate 10] [--baseline-emails 3000]
    .venv/bin/python bench/delivery.py --processes 3
    .venv/bin/python bench/delivery.py --processes 3 --emails 1000 --baseline-emails 200
    .venv/bin/python bench/delivery.py --tiny [--processes 3]   # CI: 300 emails at R = 2

Uses DATABASE_URL if set, else PostgreSQL at 127.0.0.1 in a database
`retention_bench` (created and migrated if missing). It empties that database's outbox.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/retention_bench")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def ensure_database() -> None:
    import environ
    import psycopg

    db = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    admin = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
    if db.get("PASSWORD"):
        admin += f" password={db['PASSWORD']}"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emails", type=int, default=20_000)
    parser.add_argument(
        "--rate", type=int, default=10, help="requests per second the fake server allows"
    )
    parser.add_argument(
        "--baseline-emails", type=int, default=3_000, help="0 skips the unlimited baseline"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="processes delivering the same outbox at once"
    )
    parser.add_argument(
        "--tiny", action="store_true", help="CI size: 300 emails at R = 2, 200 for the baseline"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker()
    if args.tiny:
        args.emails, args.rate, args.baseline_emails = 300, 2, 200

    ensure_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from outbox.delivery import deliver_pending
    from outbox.models import OutboundEmail, RateSlot, RateState

    call_command("migrate", verbosity=0)
    html = (
        '<table role="presentation" width="100%"><tr><td style="padding:24px;font-family:Arial">'
        + (
            '<p style="margin:0 0 16px">Spring is here: book lawn care this month and take 20% off.</p>'
            * 30
        )
        + "</td></tr></table>"
    )
    text = "Spring is here: book lawn care this month and take 20% off.\n" * 10

    def queue(n: int, tag: str) -> None:
        OutboundEmail.objects.all().delete()
        RateSlot.objects.all().delete()  # a fresh account: no slot used, no limit heard of
        RateState.objects.all().delete()
        rows = [
            OutboundEmail(
                idempotency_key=f"marketing/bench-{tag}-{i}",
                template="bench",
                kind="transactional",
                to_email=f"customer{i}@example.com",
                subject=f"Your spring offer #{i}",
                text_body=text,
                html_body=html,
                headers={
                    "List-Unsubscribe": f"<https://retention.example/u/{i}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
            for i in range(n)
        ]
        OutboundEmail.objects.bulk_create(rows, batch_size=2000)

    def run(n: int, rate: int | None, tag: str) -> dict:
        queue(n, tag)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fake_resend",
                "--port",
                str(port),
                "--rate",
                str(rate or 0),
                "--api-key",
                "re_bench",
                "--quiet",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{url}/_fake/summary", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            settings.RESEND_API_KEY, settings.RESEND_API_URL = "re_bench", url
            settings.RESEND_REQUESTS_PER_SECOND = rate or 1000
            settings.EMAIL_BATCH_SIZE = 100
            started = time.perf_counter()
            mono_start = time.monotonic()
            if args.processes > 1:
                stats, elapsed = run_workers(args.processes, url=url, rate=rate or 1000)
            else:
                stats = deliver_pending()
                elapsed = time.perf_counter() - started
            if os.environ.get("BENCH_DUMP"):
                print(
                    f"monotonic start {mono_start:.3f} end {time.monotonic():.3f}", file=sys.stderr
                )
            summary = json.loads(urllib.request.urlopen(f"{url}/_fake/summary", timeout=5).read())
            if os.environ.get("BENCH_DUMP"):
                Path(os.environ["BENCH_DUMP"]).write_bytes(
                    urllib.request.urlopen(f"{url}/_fake/requests").read()
                )
        finally:
            server.terminate()
            server.wait()
        assert stats["sent"] == n == summary["accepted"], (stats, summary)
        return {
            "emails": n,
            "seconds": elapsed,
            "rate": n / elapsed,
            "requests": summary["requests"],
            "violations": summary["violations"],
            "max_in_second": summary["maxRequestsInAnySecond"],
        }

    print(
        f"Delivery benchmark: batches of 100 to the fake Resend server, {settings.RESEND_MAX_IN_FLIGHT} requests in flight"
        f" per process, {args.processes} process(es) delivering",
        file=sys.stderr,
    )
    if args.baseline_emails:
        base = run(args.baseline_emails, None, "base")
        print(
            f"baseline (no rate limit): {base['emails']} emails in {base['seconds']:.2f}s = "
            f"{base['rate']:.0f} emails/s ({base['requests']} requests)"
        )
    res = run(args.emails, args.rate, "limited")
    ceiling = args.rate * 100
    print(
        f"limited to {args.rate} requests/s: {res['emails']} emails in {res['seconds']:.2f}s = "
        f"{res['rate']:.0f} emails/s ({res['requests']} requests)"
    )
    print(f"ceiling R x 100 = {ceiling} emails/s; ratio {res['rate'] / ceiling:.1%}")
    # N requests with at most R in any one second cannot take less than ceil(N/R) - 1
    # seconds (the last second's requests all go at its start): the strict bound.
    fastest = max(1, -(-res["requests"] // args.rate) - 1)
    print(
        f"strict bound: {res['requests']} requests need at least {fastest}s = "
        f"{res['emails'] / fastest:.0f} emails/s; achieved {res['seconds'] and fastest / res['seconds']:.1%} of it"
    )
    print(
        f"rate-limit violations (429s from the server): {res['violations']}; "
        f"most accepted requests in any one second: {res['max_in_second']} (limit {args.rate})"
    )
    OutboundEmail.objects.all().delete()
    if res["violations"]:  # the limiter's promise: never a request over R in any second
        sys.exit(f"{res['violations']} rate-limit violations")


def run_workers(count: int, *, url: str, rate: int) -> tuple[dict, float]:
    """`count` worker processes deliver the outbox at once; returns their summed stats and
    the seconds from the start signal to the last one's finish."""
    from django.db import connection

    connection.close()  # the workers open their own
    env = {
        **os.environ,
        "RESEND_API_KEY": "re_bench",
        "RESEND_API_URL": url,
        "RESEND_REQUESTS_PER_SECOND": str(rate),
        "EMAIL_BATCH_SIZE": "100",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker"], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for _ in range(count)
    ]
    for proc in workers:  # Django set up and connected in every one
        assert proc.stdout.readline().strip() == "ready"
    started = time.time()
    for proc in workers:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [json.loads(proc.stdout.readline()) for proc in workers]
    for proc in workers:
        proc.wait()
    stats = {"sent": sum(r["sent"] for r in results), "perProcess": [r["sent"] for r in results]}
    print(f"  sent per process: {stats['perProcess']}", file=sys.stderr)
    return stats, max(r["finished"] for r in results) - started


def worker() -> None:
    """One of the processes of --processes: delivers until the outbox is empty."""
    import django

    django.setup()
    from django.db import connection

    from outbox.delivery import deliver_pending
    from outbox.models import OutboundEmail

    connection.ensure_connection()
    print("ready", flush=True)
    sys.stdin.readline()
    sent = 0
    waiting = OutboundEmail.objects.filter(status__in=["pending", "sending"])
    while waiting.exists():
        stats = deliver_pending()
        sent += stats["sent"]
        if not stats["batches"]:
            time.sleep(0.02)  # the last batches are in flight in another process
    print(json.dumps({"sent": sent, "finished": time.time()}), flush=True)


if __name__ == "__main__":
    main()

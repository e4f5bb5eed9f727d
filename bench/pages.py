"""Page benchmark: every customer page and JSON endpoint, and the provider portal,
against the trivial logged-in endpoint GET /api/customer/notifications, in the same run.

    .venv/bin/python bench/pages.py                       # in-process, then gunicorn + wrk
    .venv/bin/python bench/pages.py --rounds 3 --duration 3 --requests 40
    .venv/bin/python bench/pages.py --tiny                # CI: in-process, a few requests each

Builds a fresh database (BENCH_DATABASE_URL, default `retention_bench_pages`, dropped at
the end unless --keep-db) with the demo data (seed_demo), and measures at two sizes: the
demo customer as seeded, then the same customer grown to a long history of 200 ledger
lines, 50 jobs and 100 notifications (tests/page_data.py, which the query-count tests
use too), so the two differ only in the history's length. The pages are the ones tests/page_data.py lists, with the
API's customer and provider GET endpoints taken from its OpenAPI document, so a new
feature's endpoint is measured without editing this file. Settings as in production:
DEBUG off, persistent connections, the static manifest (collectstatic first).

Two measurements, each a ratio against the baseline measured in the same run:
- in-process, through Django's test client (steadier on a busy machine): for each page,
  --requests requests alternating with requests to the baseline, after two warm-ups;
  ratio = median baseline time / median page time. Query counts are counted here.
- over HTTP: gunicorn (3 workers) driven by wrk (-t2 -c8, --duration seconds a run), each
  round the baseline before and after the pages; ratio = page requests/s / the round's
  mean baseline requests/s; the median over --rounds rounds. (Skipped with --no-wrk,
  --tiny, or when `wrk` is not installed: apt-get install wrk.)
The baseline is the notifications of a customer of its own with five notifications, the
same at both sizes (the demo customer's own notifications are measured as a page).

Checks (non-zero exit when one fails; what CI's --tiny run relies on): every page answers
200, and each page's query count is the same at both sizes (one more allowed where the
recommendations widget records what it shows: tests/page_data.RECORDS_SHOWN).
"""

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/retention_bench_pages"
SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-" + "x" * 50,
    "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "LOG_LEVEL": "WARNING",
}
BASELINE_EMAIL = "bench-baseline@example.com"
# The goals, as ratios to the baseline (printed, not enforced: a loaded machine
# moves them; CI checks only that every page works at a fixed query count).
GOALS = {"/customer-portal/": 0.5, "/customer-portal/rewards/": 0.5}
DEFAULT_GOAL = 0.6


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def recreate_database(url: str, drop_only: bool = False) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')


def session_for(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def set_up_data() -> dict[str, str]:
    """Demo data and the baseline's customer; returns a session key for the demo
    customer, the baseline's customer and the demo provider."""
    from django.core.management import call_command

    from retention.models import Customer, User
    from retention.models.notifications import JOB_UPDATE
    from retention.notifications import notify

    call_command("seed_demo", stdout=open(os.devnull, "w"))
    baseline_user = User.objects.create_user(email=BASELINE_EMAIL, password=None, name="Bea Baseline")
    baseline = Customer.objects.create(user=baseline_user, phone="555-0142")
    for i in range(5):
        notify(customer=baseline, kind=JOB_UPDATE, title=f"Update {i}", message="Your visit is confirmed.")
    return {
        "demo": session_for(User.objects.get(email="demo@example.com")),
        "baseline": session_for(baseline_user),
        "provider": session_for(User.objects.get(email="provider@example.com")),
    }


def grow_demo_history() -> str:
    """Tops the demo customer's history up to 200 ledger lines, 50 jobs and 100
    notifications; returns what it holds."""
    from loyalty.models import PointsEntry
    from retention.models import Customer, Job, Notification, Provider, User
    from tests.page_data import give_history

    demo = Customer.objects.get(user__email="demo@example.com")
    have = {
        "ledger_entries": PointsEntry.objects.filter(account_id=demo.pk).count(),
        "jobs": Job.objects.filter(customer=demo).count(),
        "notifications": Notification.objects.filter(customer=demo).count(),
    }
    want = {"ledger_entries": 200, "jobs": 50, "notifications": 100}
    give_history(
        demo,
        provider=Provider.objects.get(user__email="provider@example.com"),
        staff=User.objects.get(email="admin@example.com"),
        **{key: max(want[key] - have[key], 0) for key in want},
    )
    return (f"{PointsEntry.objects.filter(account_id=demo.pk).count()} ledger lines, "
            f"{Job.objects.filter(customer=demo).count()} jobs, "
            f"{Notification.objects.filter(customer=demo).count()} notifications")


def analyze() -> None:
    """Planner statistics, as autovacuum keeps them in production: without them a
    freshly loaded database plans joins blind (the jobs page's seven-table join took
    1.1-2.9 ms to plan instead of 0.3-1.1), which is not what a deployment sees."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def client_for(session: str):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = session
    return client


def get(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    took = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return took


def count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        get(client, url)
    return len(captured)


def in_process(baseline_client, client, url: str, requests: int) -> dict:
    """Median ms of `requests` GETs of url, each after a GET of the baseline."""
    from tests.page_data import BASELINE_URL

    for _ in range(2):
        get(baseline_client, BASELINE_URL)
        get(client, url)
    base, page = [], []
    for _ in range(requests):
        base.append(get(baseline_client, BASELINE_URL))
        page.append(get(client, url))
    base_ms, page_ms = statistics.median(base) * 1000, statistics.median(page) * 1000
    return {"ms": page_ms, "baseline_ms": base_ms, "ratio": base_ms / page_ms}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--workers", "3", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGKILL)
    raise SystemExit("gunicorn did not start")


def wrk(port: int, url: str, session: str, seconds: int) -> float:
    """Requests/s wrk gets for GET url with this session (-t2 -c8); fails on non-2xx."""
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "10s", "-H", f"Cookie: sessionid={session}", "-H", "Host: 127.0.0.1",
         f"http://127.0.0.1:{port}{url}"],
        capture_output=True, text=True, check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk {url}: {out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="in-process GETs per page")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds")
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--only", nargs="+", help="measure only these URLs (and the baseline)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--tiny", action="store_true", help="CI: in-process only, 3 requests a page")
    args = parser.parse_args()
    if args.tiny:
        args.requests, args.no_wrk = 3, True
    use_wrk = not args.no_wrk and shutil.which("wrk") is not None
    if not args.no_wrk and not use_wrk:
        print("wrk is not installed (apt-get install wrk): in-process figures only", file=sys.stderr)

    # The manifest goes to a directory of this run's own: the checkout's staticfiles/
    # is what a test suite or a demo running beside the bench serves from.
    static_root = tempfile.mkdtemp(prefix="bench-pages-static-")
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "config.settings",
           "STATIC_ROOT": static_root}
    os.environ.update(env)
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.page_data import BASELINE_URL, RECORDS_SHOWN, customer_urls, provider_urls

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    sessions = set_up_data()
    print(f"data ready in {time.perf_counter() - started:.0f}s", file=sys.stderr)

    customer_pages = customer_urls()
    provider_pages = provider_urls()
    if args.only:
        customer_pages = [u for u in customer_pages if u in args.only]
        provider_pages = [u for u in provider_pages if u in args.only]
    clients = {name: client_for(key) for name, key in sessions.items()}
    results: dict[tuple[str, str], dict] = {}
    failed = []
    loads = [f"start {load()}"]
    port = free_port() if use_wrk else None
    sizes = {}
    for size in ("demo", "long"):
        if size == "long":
            sizes[size] = grow_demo_history()
        else:
            sizes[size] = "as seeded"
        analyze()
        # (label, session, url) for every measurement at this size
        cases = [(size, "demo", BASELINE_URL)] + [(size, "demo", url) for url in customer_pages]
        cases += [(f"provider ({size})", "provider", url) for url in provider_pages]
        print(f"{size} ({sizes[size]}), in-process: median of {args.requests} GETs per page, each after "
              f"a GET of the baseline (load {load()})", file=sys.stderr)
        for label, who, url in cases:
            measured = in_process(clients["baseline"], clients[who], url, args.requests)
            queries = count_queries(clients[who], url)  # after the warm-ups: what a request costs
            results[(label, url)] = {"queries": queries, **measured}
            print(f"  {label:<8} {url:<45} {measured['ms']:7.2f} ms  x{measured['ratio']:.2f}  {queries:2d} queries",
                  file=sys.stderr)
        connection.close()
        loads.append(f"after {size} in-process {load()}")
        if use_wrk:
            server = start_gunicorn(port, env)
            try:
                # Warm every worker: imports, connections, compiled templates.
                for _label, who, url in cases:
                    wrk(port, url, sessions[who], 1)
                ratios: dict[tuple[str, str], list[float]] = {}
                for round_ in range(args.rounds):
                    before = wrk(port, BASELINE_URL, sessions["baseline"], args.duration)
                    measured = {(label, url): wrk(port, url, sessions[who], args.duration)
                                for label, who, url in cases}
                    after = wrk(port, BASELINE_URL, sessions["baseline"], args.duration)
                    baseline = (before + after) / 2
                    print(f"  wrk round {round_ + 1}: baseline {before:.0f} / {after:.0f} req/s (load {load()})",
                          file=sys.stderr)
                    for key, rps in measured.items():
                        ratios.setdefault(key, []).append(rps / baseline)
                        results[key].setdefault("rps", []).append(rps)
                for key, values in ratios.items():
                    results[key]["wrk_ratio"] = statistics.median(values)
                    results[key]["wrk_rps"] = statistics.median(results[key]["rps"])
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
            loads.append(f"after {size} wrk {load()}")
    for label_small, label_large in [("demo", "long"), ("provider (demo)", "provider (long)")]:
        for (label, url), r in results.items():
            if label == label_small and (label_large, url) in results:
                small, large = r["queries"], results[(label_large, url)]["queries"]
                if large not in ({small, small + 1} if url in RECORDS_SHOWN else {small}):
                    failed.append(f"{url}: {small} queries as seeded, {large} with the long history")

    print(f"\nPages against GET {BASELINE_URL} (a customer with 5 notifications), same run; "
          f"{os.cpu_count()} cores; {dt.date.today()}; load average (1/5/15 min): " + "; ".join(loads))
    print(f"demo = the demo customer as seeded; long = the same customer with {sizes['long']}")
    wrk_head = f" | wrk req/s | wrk ratio (median of {args.rounds})" if use_wrk else ""
    print(f"\n| customer | endpoint | queries | in-process ms | in-process ratio{wrk_head} | goal |")
    print("|---|---|---:|---:|---:|" + ("---:|---:|" if use_wrk else "") + "---|")
    for (label, url), r in results.items():
        goal = None if url == BASELINE_URL else GOALS.get(url, DEFAULT_GOAL)
        ratio = r.get("wrk_ratio", r["ratio"]) if use_wrk else r["ratio"]
        verdict = "baseline" if goal is None else (f">= {goal}: " + ("met" if min(ratio, r["ratio"]) >= goal else "NOT met"))
        wrk_cells = f" | {r['wrk_rps']:.0f} | {r['wrk_ratio']:.2f}" if use_wrk else ""
        print(f"| {label} | `{url}` | {r['queries']} | {r['ms']:.2f} | {r['ratio']:.2f}{wrk_cells} | {verdict} |")

    if not args.keep_db:
        recreate_database(args.database_url, drop_only=True)
    shutil.rmtree(static_root, ignore_errors=True)
    if failed:
        print("\nFAILED:\n  " + "\n  ".join(failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

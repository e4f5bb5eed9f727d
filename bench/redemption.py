"""Redemption throughput over HTTP: gunicorn (3 workers, config/gunicorn.py as in production) on PostgreSQL.

    .venv/bin/python bench/redemption.py [--customers 400] [--requests 1600] [--clients 8] [--tiny]

Creates a fresh benchmark database, gives each of many customers 1,000 points
and a logged-in session, starts gunicorn against it, then runs two phases with
the same client threads:

  baseline:   GET  /api/customer/notifications       (a trivial logged-in JSON view)
  redemption: POST /api/customer/loyalty/redeem       (a 100-point reward)

Each request goes to the next customer in turn, so the load is spread over
many accounts. It prints requests/s and p50/p99 latency for each phase and
the ratio redemption/baseline, checks the ledger with verify_ledger, and drops
the database (unless --keep-db). Email is queued and delivered after commit as
in production, through Django's dummy email backend (nothing leaves the machine):
before stopping the server it waits until the outbox has drained (or has not shrunk
for --drain-seconds) and prints the outbox by status. It exits non-zero unless every
request answered 200, the ledger checks out and every redemption's email was sent.
--tiny (20 customers, 100 requests) is the CI size.
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/retention_bench_redemption"
POINTS_EACH = 1_000
REWARD_COST = 100
SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-" + "x" * 50,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "LOG_LEVEL": "WARNING",
}


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def set_up_data(customers: int) -> tuple[list[str], str]:
    """Customers with points and sessions; returns their session keys and the reward id."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from loyalty.models import LoyaltyAccount, PointsEntry, Reward
    from retention.models import Customer, User

    with transaction.atomic():
        staff = User.objects.create_user(email="bench-staff@example.com", is_staff=True)
        unusable = make_password(None)
        users = User.objects.bulk_create(
            [User(email=f"bench{i}@example.com", name=f"Bench {i}", password=unusable) for i in range(customers)]
        )
        people = Customer.objects.bulk_create([Customer(user=user) for user in users])
        LoyaltyAccount.objects.bulk_create(
            [LoyaltyAccount(customer=c, points=POINTS_EACH) for c in people]
        )
        PointsEntry.objects.bulk_create(
            [
                PointsEntry(
                    account_id=c.pk, points=POINTS_EACH, type=PointsEntry.Type.ADJUSTMENT,
                    description="Benchmark budget", created_by=staff,
                )
                for c in people
            ]
        )
        reward = Reward.objects.create(
            name="$10 off", description="Benchmark reward", points_cost=REWARD_COST,
            reward_type=Reward.RewardType.AMOUNT_OFF, reward_value=10,
        )
    sessions = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    return sessions, str(reward.pk)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py", "--workers", "3", "--bind", f"127.0.0.1:{port}",
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
    server.kill()
    raise SystemExit("gunicorn did not start")


def request(port: int, method: str, path: str, session: str, csrf: str, body: bytes | None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": f"sessionid={session}; csrftoken={csrf}", "Host": "127.0.0.1"}
    if body is not None:
        headers.update({"Content-Type": "application/json", "X-CSRFToken": csrf})
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, elapsed


def run_phase(port, clients, total, sessions, method, path, body) -> dict:
    """`clients` threads send `total` requests between them, each to the next customer."""
    counter = iter(range(total))
    lock = threading.Lock()
    latencies, statuses = [], {}
    csrf = secrets.token_hex(16)  # an unmasked 32-character secret, as Django accepts

    def client():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            status, elapsed = request(port, method, path, sessions[i % len(sessions)], csrf, body)
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": total,
        "per_second": total / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "statuses": statuses,
    }


UNDELIVERED = ("pending", "sending")


def outbox_counts() -> dict[str, int]:
    from django.db.models import Count

    from outbox.models import OutboundEmail

    return dict(OutboundEmail.objects.values_list("status").annotate(n=Count("pk")).order_by())


def wait_for_outbox(patience: float) -> tuple[float, dict[str, int]]:
    """Polls the outbox until nothing is pending or sending, or until it has not shrunk
    for `patience` seconds. Returns (seconds waited, counts by status)."""
    from django.db import connection

    started = last_change = time.monotonic()
    undelivered = None
    while True:
        counts = outbox_counts()
        now_undelivered = sum(counts.get(status, 0) for status in UNDELIVERED)
        if not now_undelivered:
            break
        if now_undelivered != undelivered:
            undelivered, last_change = now_undelivered, time.monotonic()
        elif time.monotonic() - last_change > patience:
            break
        time.sleep(0.2)
    connection.close()
    return time.monotonic() - started, counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--requests", type=int, default=1600, help="per phase")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--drain-seconds", type=float, default=60,
        help="how long to wait for the outbox to drain once the outbox stops shrinking",
    )
    parser.add_argument("--tiny", action="store_true", help="CI size: 20 customers, 100 requests, 4 clients")
    args = parser.parse_args()
    if args.tiny:
        args.customers, args.requests, args.clients = 20, 100, 4
    if args.requests > args.customers * (POINTS_EACH // REWARD_COST):
        raise SystemExit("Not enough points for that many redemptions; add --customers.")

    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": args.database_url}
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    sessions, reward_id = set_up_data(args.customers)
    connection.close()

    port = free_port()
    server = start_gunicorn(port, env)
    try:
        redeem_body = json.dumps({"rewardId": reward_id}).encode()
        # Warm up each worker's imports and database connection.
        run_phase(port, args.clients, 48, sessions, "GET", "/api/customer/notifications", None)
        baseline = run_phase(port, args.clients, args.requests, sessions, "GET", "/api/customer/notifications", None)
        redemption = run_phase(port, args.clients, args.requests, sessions, "POST", "/api/customer/loyalty/redeem", redeem_body)
        # The emails go out after each response, on the workers' delivery threads: stop
        # the server only once the outbox has drained (or stopped draining).
        drained_in, outbox = wait_for_outbox(args.drain_seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    print(f"gunicorn 3 workers, PostgreSQL, {args.clients} client threads, {args.customers} customers, "
          f"{args.requests} requests per phase (cores: {os.cpu_count()})")
    for name, phase in [("baseline   GET /api/customer/notifications", baseline),
                        ("redemption POST /api/customer/loyalty/redeem", redemption)]:
        print(f"{name}: {phase['per_second']:7.1f} req/s  p50 {phase['p50_ms']:6.1f} ms  "
              f"p99 {phase['p99_ms']:6.1f} ms  statuses {phase['statuses']}")
    print(f"redemptions/s: {redemption['per_second']:.1f}  "
          f"ratio to baseline: {redemption['per_second'] / baseline['per_second']:.2f}")
    left = {status: n for status, n in outbox.items() if status in UNDELIVERED}
    print(f"outbox after the run: {dict(sorted(outbox.items()))}; "
          + (f"drained {drained_in:.1f}s after the last response" if not left
             else f"LEFT undelivered after waiting: {left}"))

    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_ledger", stdout=out)
        print("ledger: " + out.getvalue().strip().splitlines()[-1])
    except SystemExit:
        print("ledger MISMATCH:\n" + out.getvalue())
        raise
    finally:
        connection.close()
        if not args.keep_db:
            drop_database(args.database_url)
    ok = (
        redemption["statuses"].get(200, 0) == args.requests
        and baseline["statuses"].get(200, 0) == args.requests
        # one email per redemption, every one delivered
        and sum(outbox.values()) == args.requests
        and outbox.get("sent", 0) == args.requests
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

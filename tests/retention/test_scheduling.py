"""The job runner every scheduled command uses: lock, job run record, stats, exit
status, dry run; and the cron lines' visible failures."""

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from outbox.models import OutboundEmail
from retention.models import JobRun
from retention.scheduling import run_job
from tests.factories import OutboundEmailFactory
from tests.project import database_url

ROOT = Path(__file__).resolve().parents[2]


def _in_thread(target):
    def run():
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_copies_started_at_once_one_works_the_other_exits_at_once():
    started, release = threading.Event(), threading.Event()
    results = {}

    def slow_work(ctx):
        started.set()
        release.wait(10)
        ctx.stats["sent"] = 5

    first = _in_thread(
        lambda: results.__setitem__("first", run_job(name="demo_job", work=slow_work))
    )
    assert started.wait(10)
    second = _in_thread(
        lambda: results.__setitem__("second", run_job(name="demo_job", work=slow_work))
    )
    second.join(5)
    assert not second.is_alive(), "the second copy waited instead of exiting"
    release.set()
    first.join(10)

    run, stats = results["first"]
    assert run.status == JobRun.Status.SUCCEEDED and stats["sent"] == 5
    skipped, skipped_stats = results["second"]
    assert skipped.status == JobRun.Status.SKIPPED and skipped_stats["locked"] is True
    assert skipped_stats["sent"] == 0


@pytest.mark.django_db(transaction=True)
def test_two_deliver_emails_at_once_send_each_email_once(fake_resend, settings):
    settings.RESEND_REQUESTS_PER_SECOND = 100
    OutboundEmailFactory.create_batch(30)
    fake_resend.slow_next(1, seconds=1.0)  # keeps the first copy busy
    outputs = [io.StringIO(), io.StringIO()]

    def run(out):
        try:
            call_command("deliver_emails", stdout=out, stderr=io.StringIO())
        except SystemExit:
            pass

    threads = [_in_thread(lambda out=out: run(out)) for out in outputs]
    for thread in threads:
        thread.join(30)

    stats = [json.loads(out.getvalue().strip().splitlines()[-1]) for out in outputs]
    assert sorted(s.get("locked", False) for s in stats) == [False, True]
    assert sum(s["sent"] for s in stats) == 30
    assert len(fake_resend.emails) == 30
    assert sorted(JobRun.objects.values_list("status", flat=True)) == ["skipped", "succeeded"]


@pytest.mark.django_db
def test_command_prints_stats_last_and_progress_on_stderr(settings):
    settings.RESEND_API_KEY = ""
    OutboundEmailFactory.create_batch(2)
    out, err = io.StringIO(), io.StringIO()

    call_command("deliver_emails", "--date", "2026-03-02", stdout=out, stderr=err)

    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (
        stats["job"] == "deliver_emails"
        and stats["date"] == "2026-03-02"
        and stats["dryRun"] is False
    )
    assert (
        stats["eligible"] == 2
        and stats["sent"] == 2
        and stats["failed"] == 0
        and stats["skipped"] == 0
    )
    assert "[deliver_emails] started as of 2026-03-02" in err.getvalue()
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.SUCCEEDED and run.stats == stats and run.finished_at


@pytest.mark.django_db
def test_dry_run_sends_nothing_and_changes_nothing(settings):
    settings.RESEND_API_KEY = ""
    OutboundEmailFactory.create_batch(2)
    out = io.StringIO()

    call_command("deliver_emails", "--dry-run", stdout=out, stderr=io.StringIO())

    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    assert stats["dryRun"] is True and stats["eligible"] == 2 and stats["sent"] == 0
    assert OutboundEmail.objects.filter(status="pending").count() == 2


@pytest.mark.django_db
def test_a_dry_run_rolls_back_whatever_the_job_writes():
    def writes(ctx):
        OutboundEmailFactory()

    run, _ = run_job(name="writer", work=writes, dry_run=True)

    assert run.status == JobRun.Status.SUCCEEDED
    assert not OutboundEmail.objects.exists()


@pytest.mark.django_db
def test_failure_is_recorded_and_the_command_exits_non_zero(fake_resend):
    OutboundEmailFactory(to_email="no-at-sign")
    out = io.StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("deliver_emails", stdout=out, stderr=io.StringIO())

    assert exit_.value.code == 1
    assert json.loads(out.getvalue().strip().splitlines()[-1])["failed"] == 1
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED and "1 failed" in run.error


@pytest.mark.django_db
def test_an_exception_fails_the_run_with_the_error():
    def broken(ctx):
        raise RuntimeError("database on fire")

    run, stats = run_job(name="broken", work=broken)

    assert run.status == JobRun.Status.FAILED and "database on fire" in run.error
    assert stats["failed"] == 1


@pytest.mark.django_db
def test_a_run_left_running_by_a_dead_process_is_marked_failed():
    dead = JobRun.objects.create(name="deliver_emails", as_of="2026-01-01")

    run_job(name="deliver_emails", work=lambda ctx: None)

    dead.refresh_from_db()
    assert dead.status == JobRun.Status.FAILED and "ended without finishing" in dead.error


@pytest.mark.django_db
def test_a_run_deletes_its_own_jobs_records_older_than_the_keep_days(settings):
    settings.JOB_RUN_KEEP_DAYS = 30
    now = timezone.now()
    old = JobRun.objects.create(name="deliver_emails", as_of="2026-01-01", started_at=now - dt.timedelta(days=31))
    kept = JobRun.objects.create(name="deliver_emails", as_of="2026-01-01", started_at=now - dt.timedelta(days=29))
    other_job = JobRun.objects.create(name="check_service_due", as_of="2026-01-01", started_at=now - dt.timedelta(days=365))

    run, _ = run_job(name="deliver_emails", work=lambda ctx: None)

    remaining = set(JobRun.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert {kept.pk, other_job.pk, run.pk} <= remaining


def test_schedule_is_in_utc_as_the_brief_says():
    schedule = {job[2][0]: job[0] for job in settings.CRONJOBS}
    assert schedule == {
        "check_inactive_customers": "0 9 * * *",
        "send_seasonal_reminders": "0 10 * * 1",
        "check_service_due": "0 11 * * *",
        "schedule_plan_visits": "0 6 * * *",
        "deliver_emails": "*/5 * * * *",
        "refresh_recommendations": "30 4 * * *",
        "refresh_metrics": "15 7 * * *",
    }
    assert all(job[1] == "retention.scheduling.run_from_cron" for job in settings.CRONJOBS)


@pytest.mark.django_db(transaction=True)
def test_a_failing_cron_line_exits_non_zero_although_django_crontab_hides_it(fake_resend):
    from django_crontab.crontab import Crontab

    OutboundEmailFactory(to_email="no-at-sign")
    job = next(job for job in settings.CRONJOBS if job[2] == ["deliver_emails"])
    job_hash = Crontab(readonly=True)._Crontab__hash_job(job)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "true",
        "RESEND_API_KEY": fake_resend.api_key,
        "RESEND_API_URL": fake_resend.url,
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "crontab", "run", job_hash],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1, done.stderr
    assert '"failed": 1' in done.stdout
    assert "deliver_emails" in done.stderr and "exited with status 1" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_sigterm_ends_a_command_line_run_as_failed():
    """A job killed politely (a deploy) is recorded as failed, not left running."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "true",
        "RESEND_API_KEY": "",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    # deliver_emails stays for a retry that is not due yet: long enough to be stopped.
    OutboundEmailFactory(
        status="sending",
        batch_key="batch/x",
        next_attempt_at=timezone.now() + dt.timedelta(seconds=20),
    )
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "deliver_emails"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        if JobRun.objects.filter(status=JobRun.Status.RUNNING).exists():
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)

    assert proc.returncode == 128 + signal.SIGTERM
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.FAILED and "interrupted" in run.error


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2027-02-30", "'2027-02-30' is not a real date"),
        ("yesterday", "'yesterday' is not YYYY-MM-DD"),
        ("2027-2-3", "'2027-2-3' is not YYYY-MM-DD"),
    ],
)
def test_a_bad_date_is_argparse_one_line_usage_error_and_changes_nothing(value, reason):
    done = subprocess.run(
        [sys.executable, "manage.py", "check_service_due", "--date", value],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": database_url(connection.settings_dict)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.startswith("usage: manage.py check_service_due")
    assert done.stderr.splitlines()[-1] == f"manage.py check_service_due: error: argument --date: {reason}"
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not JobRun.objects.exists()


def crontab(subcommand: str, executable: str):
    return subprocess.run(
        [sys.executable, "manage.py", "crontab", subcommand],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "CRONTAB_EXECUTABLE": executable},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("subcommand", ["add", "show", "remove"])
def test_crontab_without_the_crontab_program_fails_with_one_clear_line(subcommand, tmp_path):
    done = crontab(subcommand, str(tmp_path / "crontab"))

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"CommandError: crontab {subcommand}: no crontab program at {tmp_path / 'crontab'}; install cron "
        "(apt-get install -y cron) or set CRONTAB_EXECUTABLE. Nothing was changed."
    ]
    assert "not found" not in done.stdout


def test_crontab_add_then_show_with_a_crontab_program(tmp_path):
    """A stand-in crontab that keeps the table in a file: the lines django-crontab writes."""
    table = tmp_path / "table"
    fake = tmp_path / "crontab"
    fake.write_text(f'#!/bin/sh\nif [ "$1" = -l ]; then cat {table} 2>/dev/null; else cp "$1" {table}; fi\n')
    fake.chmod(0o755)

    added = crontab("add", str(fake))
    shown = crontab("show", str(fake))

    assert added.returncode == 0, added.stderr
    assert shown.returncode == 0, shown.stderr
    assert table.read_text().count("manage.py crontab run") == len(settings.CRONJOBS)
    assert shown.stdout.count("retention.scheduling.run_from_cron") == len(settings.CRONJOBS), shown.stdout

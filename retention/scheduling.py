"""The runner every scheduled job goes through: as-of date, dry run, a singleton
lock, a JobRun record, progress on stderr and stats as the last line of stdout."""

import argparse
import contextvars
import datetime as dt
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from .clock import business_today
from .locks import advisory_lock
from .models import JobRun

log = logging.getLogger("retention.jobs")

# Set while a job runs with --dry-run: the outbox sends nothing.
dry_run_active: contextvars.ContextVar[bool] = contextvars.ContextVar("retention_dry_run", default=False)


@dataclass
class JobContext:
    """What a job function gets: the day it runs as of, whether to write, its stats."""

    name: str
    as_of: dt.date
    dry_run: bool
    progress_stream: TextIO = field(default=sys.stderr, repr=False)
    stats: dict = field(default_factory=dict)
    started_at: dt.datetime = field(default_factory=timezone.now)  # the real moment, even under --date

    def __post_init__(self):
        self.stats = {
            "job": self.name,
            "date": self.as_of.isoformat(),
            "dryRun": self.dry_run,
            "eligible": 0,
            "sent": 0,
            "skipped": 0,
            "failed": 0,
            **self.stats,
        }

    def progress(self, message: str) -> None:
        self.progress_stream.write(f"[{self.name}] {message}\n")
        self.progress_stream.flush()


def singleton_lock(name: str):
    """Yields True if this process holds the job's lock, False if another copy does."""
    return advisory_lock(f"job.{name}", wait=False)


def run_job(
    *,
    name: str,
    work: Callable[[JobContext], None],
    as_of: dt.date | None = None,
    dry_run: bool = False,
    progress_stream: TextIO = sys.stderr,
) -> tuple[JobRun, dict]:
    """Runs `work` once under the job's lock and records the run.

    A dry run happens inside a transaction that is rolled back, and with delivery
    switched off, so it changes nothing and sends nothing whatever `work` does.
    """
    ctx = JobContext(name=name, as_of=as_of or business_today(), dry_run=dry_run, progress_stream=progress_stream)
    with singleton_lock(name) as acquired:
        if not acquired:
            ctx.progress("another copy is running; exiting without doing the work")
            log.warning("%s: another copy is running; this one did nothing", name)
            ctx.stats["locked"] = True
            run = JobRun.objects.create(
                name=name, as_of=ctx.as_of, dry_run=dry_run, status=JobRun.Status.SKIPPED,
                finished_at=timezone.now(), stats=ctx.stats,
            )
            return run, ctx.stats
        # Holding the lock, any run of this job still "running" died without finishing.
        JobRun.objects.filter(name=name, status=JobRun.Status.RUNNING).update(
            status=JobRun.Status.FAILED, finished_at=timezone.now(),
            error="The process ended without finishing (killed or crashed).",
        )
        run = JobRun.objects.create(name=name, as_of=ctx.as_of, dry_run=dry_run)
        JobRun.objects.filter(
            name=name, started_at__lt=run.started_at - dt.timedelta(days=settings.JOB_RUN_KEEP_DAYS)
        ).delete()
        ctx.progress(f"started as of {ctx.as_of}{' (dry run)' if dry_run else ''}")
        token = dry_run_active.set(dry_run)
        try:
            if dry_run:
                with transaction.atomic():
                    work(ctx)
                    transaction.set_rollback(True)
            else:
                work(ctx)
        except Exception as exc:
            ctx.stats["failed"] = ctx.stats.get("failed", 0) + 1
            ctx.stats["error"] = f"{type(exc).__name__}: {exc}"
            run.status = JobRun.Status.FAILED
            run.error = ctx.stats["error"]
            ctx.progress(f"failed: {ctx.stats['error']}")
            log.exception("%s failed", name)
        except BaseException as exc:  # SIGTERM, Ctrl-C: record it, then stop
            ctx.stats["error"] = f"interrupted ({type(exc).__name__})"
            run.status, run.error = JobRun.Status.FAILED, ctx.stats["error"]
            run.finished_at, run.stats = timezone.now(), ctx.stats
            run.save(update_fields=["status", "error", "finished_at", "stats"])
            raise
        else:
            run.status = JobRun.Status.FAILED if ctx.stats.get("failed") else JobRun.Status.SUCCEEDED
            if run.status == JobRun.Status.FAILED:
                run.error = f"{ctx.stats['failed']} failed"
        finally:
            dry_run_active.reset(token)
        run.finished_at = timezone.now()
        run.stats = ctx.stats
        run.save(update_fields=["status", "error", "finished_at", "stats"])
        ctx.progress(f"finished: {run.status}")
        log_level = logging.ERROR if run.status == JobRun.Status.FAILED else logging.INFO
        log.log(log_level, "%s as of %s: %s %s", name, ctx.as_of, run.status, json.dumps(ctx.stats, default=str))
        return run, ctx.stats


def parse_date(value: str) -> dt.date:
    """`--date`'s type: argparse turns the ArgumentTypeError into its one-line usage
    error (exit 2), saying which value is wrong and how."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a real date") from None


class ScheduledJobCommand(BaseCommand):
    """A thin command: parse options, run the job through run_job, print the stats."""

    job_name: str = ""

    def add_arguments(self, parser):
        parser.add_argument("--date", type=parse_date, help="Run as of this day (YYYY-MM-DD).")
        parser.add_argument("--dry-run", action="store_true", help="Change nothing, send nothing.")

    def work(self, ctx: JobContext) -> None:
        raise NotImplementedError

    def run_from_argv(self, argv):
        # Its own process (manage.py): SIGTERM (a deploy, a timeout) ends the run as failed
        # instead of leaving it "running". Not under call_command, where the process is
        # someone else's (a web worker serving /api/cron/...).
        _fail_runs_on_sigterm()
        return super().run_from_argv(argv)

    def handle(self, *args, **options):
        run, stats = run_job(
            name=self.job_name,
            work=self.work,
            as_of=options["date"],
            dry_run=options["dry_run"],
            progress_stream=self.stderr._out,
        )
        self.stdout.write(json.dumps(stats, default=str))
        if run.status == JobRun.Status.FAILED:
            sys.exit(1)


def _fail_runs_on_sigterm() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_system_exit)


def _raise_system_exit(signum, frame):
    raise SystemExit(128 + signum)


def run_from_cron(command: str, *args: str) -> None:
    """What each CRONJOBS line calls: the command, and a non-zero exit when it failed.

    django-crontab catches every exception (SystemExit included) and exits 0; leaving
    with os._exit makes a failure visible to cron and whatever watches it. The job run
    record and the log say what failed either way.
    """
    _fail_runs_on_sigterm()  # a cron line is its own process
    status = 0
    try:
        call_command(command, *args)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except Exception:
        log.exception("Scheduled command %s failed", command)
        status = 1
    if status:
        log.error("Scheduled command %s exited with status %s", command, status)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)

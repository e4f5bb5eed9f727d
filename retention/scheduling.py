"""The runner every scheduled job goes through: as-of date, dry run, a singleton
lock, a JobRun record, progress on stderr and stats as the last line of stdout."""

import datetime as dt
import json
import sys
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from .clock import business_today
from .models import JobRun


@dataclass
class JobContext:
    """What a job function gets: the day it runs as of, whether to write, its stats."""

    name: str
    as_of: dt.date
    dry_run: bool
    progress_stream: TextIO = field(default=sys.stderr, repr=False)
    stats: dict = field(default_factory=dict)

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


@contextmanager
def singleton_lock(name: str):
    """Yields True if this process holds the job's lock, False if another copy does.

    A PostgreSQL session advisory lock: released on exit or if the process dies.
    """
    if connection.vendor != "postgresql":
        yield True  # the SQLite demo runs one process
        return
    key = zlib.crc32(f"retention.job.{name}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def run_job(
    *,
    name: str,
    work: Callable[[JobContext], None],
    as_of: dt.date | None = None,
    dry_run: bool = False,
    progress_stream: TextIO = sys.stderr,
) -> tuple[JobRun, dict]:
    """Runs `work` once under the job's lock and records the run."""
    ctx = JobContext(name=name, as_of=as_of or business_today(), dry_run=dry_run, progress_stream=progress_stream)
    with singleton_lock(name) as acquired:
        if not acquired:
            ctx.progress("another copy is running; exiting without doing the work")
            ctx.stats["locked"] = True
            run = JobRun.objects.create(
                name=name, as_of=ctx.as_of, dry_run=dry_run, status=JobRun.Status.SKIPPED,
                finished_at=timezone.now(), stats=ctx.stats,
            )
            return run, ctx.stats
        run = JobRun.objects.create(name=name, as_of=ctx.as_of, dry_run=dry_run)
        ctx.progress(f"started as of {ctx.as_of}{' (dry run)' if dry_run else ''}")
        try:
            work(ctx)
        except Exception as exc:
            ctx.stats["failed"] = ctx.stats.get("failed", 0) + 1
            ctx.stats["error"] = f"{type(exc).__name__}: {exc}"
            run.status = JobRun.Status.FAILED
            run.error = ctx.stats["error"]
            ctx.progress(f"failed: {ctx.stats['error']}")
        else:
            run.status = JobRun.Status.FAILED if ctx.stats.get("failed") else JobRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.stats = ctx.stats
        run.save(update_fields=["status", "error", "finished_at", "stats"])
        ctx.progress(f"finished: {run.status}")
        return run, ctx.stats


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, got {value!r}") from None


class ScheduledJobCommand(BaseCommand):
    """A thin command: parse options, run the job through run_job, print the stats."""

    job_name: str = ""

    def add_arguments(self, parser):
        parser.add_argument("--date", type=parse_date, help="Run as of this day (YYYY-MM-DD).")
        parser.add_argument("--dry-run", action="store_true", help="Change nothing, send nothing.")

    def work(self, ctx: JobContext) -> None:
        raise NotImplementedError

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

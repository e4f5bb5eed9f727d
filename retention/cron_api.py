"""Cron triggers over HTTP, for hosted schedulers that call a URL instead of running
cron: `GET|POST /api/cron/<job>` (every job in settings.SCHEDULED_JOBS, dashes for
underscores) with `Authorization: Bearer <CRON_SECRET>`.

Each runs the job's management command by name (so this core app imports no feature
app) and answers the command's stats: 200 when it succeeded or another copy was
already running, 500 with the stats when it failed. 401 without the right secret,
503 while CRON_SECRET is unset, 501 for a job whose command is not installed.
"""

import hmac
import io
import json

from django.conf import settings
from django.core.management import call_command, get_commands
from django.http import HttpRequest
from ninja import Router, Status
from ninja.security.base import AuthBase
from pydantic import BaseModel, ConfigDict

from .api import ApiError, ErrorOut

def cron_jobs() -> dict[str, str]:
    """URL slug -> management command, for every job in settings.SCHEDULED_JOBS."""
    return {command.replace("_", "-"): command for command, _ in settings.SCHEDULED_JOBS}


class CronSecret(AuthBase):
    """`Authorization: Bearer <CRON_SECRET>`, compared in constant time."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest):
        secret = settings.CRON_SECRET
        if not secret:
            raise ApiError(
                503, "cron_disabled", "Cron endpoints are disabled: CRON_SECRET is not set."
            )
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), secret.encode()
        ):
            raise ApiError(401, "invalid_cron_secret", "Send Authorization: Bearer <CRON_SECRET>.")
        return True


class JobStats(BaseModel):
    """The command's last stdout line, every key of it: each job adds its own counts, and
    `locked: true` says another copy held the job's lock, so this run did nothing.
    (A pydantic model, not a ninja Schema: a Schema reads only its declared fields.)"""

    job: str
    date: str
    dryRun: bool
    eligible: int
    sent: int
    skipped: int
    failed: int

    model_config = ConfigDict(extra="allow")


class JobFailedOut(ErrorOut):
    stats: JobStats | None = None


router = Router(tags=["cron"], auth=CronSecret())


def run_command(name: str) -> tuple[int, dict]:
    """Runs a job's command and returns (exit status, stats)."""
    if name not in get_commands():
        raise ApiError(501, "job_not_installed", f"The {name} command is not installed yet.")
    out, err = io.StringIO(), io.StringIO()
    status = 0
    try:
        call_command(name, stdout=out, stderr=err)
    except SystemExit as exc:  # ScheduledJobCommand exits 1 when anything failed
        status = exc.code if isinstance(exc.code, int) else 1
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    try:
        stats = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise ApiError(
            500, "job_failed", f"{name} printed no stats; see the job runs in admin."
        ) from None
    return status, stats


def _endpoint(slug: str, command: str):
    def trigger(request: HttpRequest):
        status, stats = run_command(command)
        if status:
            message = (
                stats.get("error") or f"{stats.get('failed', 0)} failed; see the job runs in admin."
            )
            return Status(
                500, {"error": {"code": "job_failed", "message": message}, "stats": stats}
            )
        return Status(200, stats)

    trigger.__name__ = f"cron_{command}"
    trigger.__doc__ = f"Runs `manage.py {command}` as of today and answers its stats."
    router.api_operation(
        ["GET", "POST"],
        f"/{slug}",
        response={200: JobStats, 401: ErrorOut, 500: JobFailedOut, 501: ErrorOut, 503: ErrorOut},
        operation_id=f"cron_{command}",
    )(trigger)


for _slug, _command in cron_jobs().items():
    _endpoint(_slug, _command)

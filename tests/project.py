"""Helpers for tests that run the project as an operator would: in a subprocess, from a
copy of the checkout, on a free port."""

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a checkout holds beyond the tracked files; never copied.
NOT_SOURCE = (".git", ".venv", "var", "staticfiles", "test-results", ".env", "__pycache__",
              ".pytest_cache", ".hypothesis", "*.egg-info", "build")


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database a test runs on."""
    db = settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_project(destination: Path) -> Path:
    """A copy of the checkout's source (no venv, no data, no .env) at `destination`."""
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*NOT_SOURCE), symlinks=True)
    return destination


def environment(**changes: str | None) -> dict[str, str]:
    """os.environ with `changes` applied (None removes a variable)."""
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def wait_for_page(url: str, process: subprocess.Popen, *, timeout: float) -> tuple[int, dict]:
    """Polls `url` until it answers (any status) while `process` lives; the status and
    headers of the answer, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process exited ({process.returncode}) before serving {url}")
        try:
            with opener.open(url, timeout=5) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise AssertionError(f"nothing served at {url} within {timeout} s")

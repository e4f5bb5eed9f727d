"""Settings read from the environment and `.env`: PostgreSQL only, an empty value means
unset, and `.env.example` copied to `.env` as it is starts the app with its defaults.

Each test runs manage.py in a copy of the checkout, so a developer's own `.env` plays
no part."""

import subprocess
import sys

import pytest
from django.db import connection

from tests.project import ROOT, copy_project, database_url, environment, free_port, wait_for_page

SHOW_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
)


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "retention")


def manage(project, *args, **env_changes):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=environment(**env_changes),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_without_database_url_the_app_says_what_to_set(project, value):
    done = manage(project, "check", DATABASE_URL=value, DEBUG="true")

    assert done.returncode == 1
    assert "ImproperlyConfigured: DATABASE_URL is not set: point it at PostgreSQL" in done.stderr
    assert "KeyError" not in done.stderr


def test_a_database_url_other_than_postgresql_is_refused(project):
    other = "mysql://user:secret@127.0.0.1:3306/retention"
    done = manage(project, "check", DATABASE_URL=other, DEBUG="true")

    assert done.returncode == 1
    assert "DATABASE_URL must be a PostgreSQL URL" in done.stderr


def test_an_empty_value_in_the_environment_means_unset(project):
    """SECURE_SSL_REDIRECT= (empty) keeps the default that follows DEBUG, not "false"."""
    done = manage(
        project, "shell", "--verbosity", "0", "-c", SHOW_SETTINGS,
        DATABASE_URL=database_url(connection.settings_dict), DEBUG="false", SECRET_KEY="x" * 50,
        SECURE_SSL_REDIRECT="", SESSION_COOKIE_SECURE="", SECURE_HSTS_SECONDS="",
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["django.db.backends.postgresql", "True", "True", "True", "31536000"]


@pytest.mark.parametrize(
    ("debug", "https"),
    [("true", ["False", "False", "False", "0"]), ("false", ["True", "True", "True", "31536000"])],
)
def test_env_example_copied_to_env_keeps_the_https_defaults_that_follow_debug(project, debug, https):
    (project / ".env").write_text((project / ".env.example").read_text())

    done = manage(
        project, "shell", "--verbosity", "0", "-c", SHOW_SETTINGS,
        DATABASE_URL=database_url(connection.settings_dict), DEBUG=debug, SECRET_KEY="x" * 50,
        SECURE_SSL_REDIRECT=None, SESSION_COOKIE_SECURE=None, CSRF_COOKIE_SECURE=None,
        SECURE_HSTS_SECONDS=None,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["django.db.backends.postgresql", *https]


def test_env_example_copied_to_env_without_database_url_says_what_to_set(project):
    (project / ".env").write_text((project / ".env.example").read_text())

    done = manage(project, "check", DATABASE_URL=None, DEBUG="true")

    assert done.returncode == 1
    assert "DATABASE_URL is not set" in done.stderr and "KeyError" not in done.stderr


@pytest.mark.django_db
def test_the_app_starts_with_env_example_as_env_and_serves_plain_http_in_development(project):
    """The demo's case: DEBUG=true from the environment, everything else from the copy."""
    (project / ".env").write_text((project / ".env.example").read_text())
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=project,
        env=environment(DATABASE_URL=database_url(connection.settings_dict), DEBUG="true",
                        SECRET_KEY=None, SECURE_SSL_REDIRECT=None),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status, headers = wait_for_page(f"http://127.0.0.1:{port}/accounts/login/", server, timeout=60)
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0]

    assert status == 200, (status, headers.get("Location"), log)


def test_no_file_in_the_checkout_mentions_the_old_file_database():
    """PostgreSQL everywhere: grep -ri over the tracked files finds no mention of it."""
    word = "sql" + "ite"  # spelled apart so this file does not find itself
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    mentions = [
        name for name in tracked.stdout.splitlines()
        if (ROOT / name).is_file() and word in (ROOT / name).read_bytes().decode("utf-8", "replace").lower()
    ]
    assert mentions == []

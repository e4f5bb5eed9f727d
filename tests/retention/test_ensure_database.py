"""`manage.py ensure_database`: with DATABASE_URL naming a database its server does not
have yet, scripts/demo creates it; when it cannot, one line says how."""

import subprocess
import sys

import pytest
from django.db import connection

from tests.project import ROOT, database_url, environment


def ensure_database(url: str):
    return subprocess.run(
        [sys.executable, "manage.py", "ensure_database"],
        cwd=ROOT,
        env=environment(DATABASE_URL=url, DEBUG="true"),
        capture_output=True,
        text=True,
        timeout=60,
    )


def exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


@pytest.fixture
def new_database(db):
    name = f"{connection.settings_dict['NAME']}_ensure"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    yield name
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_creates_the_database_the_url_names_when_the_server_lacks_it(new_database):
    url = database_url({**connection.settings_dict, "NAME": new_database})

    first = ensure_database(url)
    second = ensure_database(url)

    assert first.returncode == 0, first.stderr
    assert f"Created database '{new_database}'" in first.stderr
    assert exists(new_database)
    assert second.returncode == 0 and second.stderr == ""


def test_a_server_it_cannot_reach_gets_one_line_saying_how_to_create_the_database():
    done = ensure_database("postgres://postgres@127.0.0.1:1/retention_nowhere")

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("CommandError: cannot make sure database 'retention_nowhere' exists on 127.0.0.1:1")
    assert lines[0].endswith("create it with: createdb -h 127.0.0.1 -p 1 -U postgres retention_nowhere")

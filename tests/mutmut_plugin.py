"""pytest plugin for mutation runs only (scripts/mutation; loaded by [tool.mutmut]'s
pytest_add_cli_args, never by a normal test run).

mutmut runs its stats, clean and forced-fail sessions in its own process, then forks
one pytest session per mutant, several at once. Sessions sharing one test database
would see each other's committed rows (transaction=True tests, the concurrency tests'
threads) and kill or spare mutants by accident, so:

- mutmut's own sessions set up test_<NAME>_mut0 the usual way (--reuse-db: created
  once, migrated on every session); the last of them (forced fail) copies it to
  test_<NAME>_mut1 .. _mut<n> (CREATE DATABASE ... TEMPLATE, a file copy), n the
  number of concurrent mutant sessions (MUTATION_MAX_CHILDREN);
- each mutant session takes a free slot (an flock on mutants/.db-slot-<n>, released
  when its process ends) and uses that copy as it is: no create, no migrate, which
  cost more than the tests themselves (seconds per session).
"""

import fcntl
import os

import pytest

_slot_file = None


def _in_mutant_session() -> bool:
    # mutmut sets MUTANT_UNDER_TEST to the mutant's name in each forked session, and to
    # "stats", "" or "fail" in its own.
    return "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", "")


def _sessions() -> int:
    return int(os.environ.get("MUTATION_MAX_CHILDREN") or os.cpu_count() or 1)


def _take_slot() -> int:
    global _slot_file
    for slot in range(1, _sessions() + 1):
        handle = open(f".db-slot-{slot}", "w")  # noqa: SIM115 (held open: it holds the lock)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _slot_file = handle
        return slot
    raise RuntimeError("no free mutation database slot")


# The database names as configured. pytest-django leaves each test database's name in
# the settings after a --reuse-db session, and mutmut runs several sessions in one
# process (then forks), so the names are read once, before the first session.
_configured_names: dict[str, str] = {}


def _test_name(alias: str, slot: int) -> str:
    return f"test_{_configured_names[alias]}_mut{slot}"


class PreparedDatabases:
    """Registered at configure time, after pytest-django, so its fixture wins."""

    @pytest.fixture(scope="session")
    def django_db_setup(self, django_test_environment, django_db_blocker):
        from django.conf import settings
        from django.db import connections

        for alias, db in settings.DATABASES.items():
            db["NAME"] = _test_name(alias, _slot)
            connections[alias].settings_dict["NAME"] = db["NAME"]
            connections[alias].close()
        yield


_slot = 0


def pytest_configure(config):
    if _in_mutant_session():
        config.pluginmanager.register(PreparedDatabases(), "mutation-prepared-databases")


def pytest_sessionstart(session):
    from django.conf import settings

    global _slot
    if not _configured_names:
        _configured_names.update({alias: db["NAME"] for alias, db in settings.DATABASES.items()})
    if _in_mutant_session():
        _slot = _take_slot()
        return
    for alias, db in settings.DATABASES.items():
        db["NAME"] = _configured_names[alias]
        db.setdefault("TEST", {})["NAME"] = _test_name(alias, 0)


def pytest_sessionfinish(session):
    if os.environ.get("MUTANT_UNDER_TEST") != "fail":
        return
    from django.db import connection, connections
    from pytest_django.plugin import blocking_manager_key

    connections.close_all()
    with session.config.stash[blocking_manager_key].unblock(), connection._nodb_cursor() as cursor:
        for alias in _configured_names:
            template = _test_name(alias, 0)
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            if not cursor.fetchone():
                continue
            for slot in range(1, _sessions() + 1):
                name = _test_name(alias, slot)
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def pytest_unconfigure(config):
    global _slot_file
    if _slot_file is not None:
        _slot_file.close()
        _slot_file = None

"""Named locks shared by every process: PostgreSQL session advisory locks.

The one helper behind the scheduled jobs' singleton lock, the delivery lock and the
marketing-email lock that seasonal and win-back share.
"""

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def lock_key(name: str) -> int:
    return zlib.crc32(f"retention.{name}".encode())


@contextmanager
def advisory_lock(name: str, *, wait: bool) -> Iterator[bool]:
    """Yields True while this process holds the lock `name`; with `wait` False, yields
    False at once when another process holds it.

    A session lock: released on exit, or by PostgreSQL if the process dies. Reentrant
    within one connection (PostgreSQL counts the holds).
    """
    key = lock_key(name)
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
            acquired = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = cursor.fetchone()[0]
    try:
        yield acquired
    except BaseException:
        if acquired:
            _unlock_after_error(key)
        raise
    if acquired:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _unlock_after_error(key: int) -> None:
    """Lets go of the lock while an error (or SIGTERM's SystemExit) propagates, without
    hiding it: a query cut short by a signal leaves the session unusable, so closing it
    is what releases the lock then."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except Exception:
        connection.close()

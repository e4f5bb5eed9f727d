"""`manage.py ensure_database`: creates the database DATABASE_URL names when its
server does not have it yet (scripts/demo runs it before migrating)."""

import warnings

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from psycopg import sql


class Command(BaseCommand):
    help = "Creates the database DATABASE_URL names if its PostgreSQL server does not have it yet."

    def handle(self, *args, **options):
        params = connection.settings_dict
        name = params["NAME"]
        where = f"{params['HOST'] or 'localhost'}:{params['PORT'] or 5432}"
        try:
            # Django's connection to the server's maintenance database ("postgres"); its
            # warning when that fails would only add lines before the one error below.
            with warnings.catch_warnings(action="ignore", category=RuntimeWarning), connection._nodb_cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone():
                    if options["verbosity"] > 1:
                        self.stderr.write(f"Database {name!r} exists on {where}.")
                    return
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except DatabaseError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(
                f"cannot make sure database {name!r} exists on {where} ({reason}); create it with: "
                f"createdb -h {params['HOST'] or 'localhost'} -p {params['PORT'] or 5432} "
                f"-U {params['USER'] or 'postgres'} {name}"
            ) from exc
        self.stderr.write(f"Created database {name!r} on {where}.")

"""A page's query compiled to SQL once per process instead of on every request.

Building and compiling a queryset with subqueries and correlated EXISTS costs Django
milliseconds of Python per request (the dashboard's job facts: about a third of the
page); the SQL is the same every time, only the customer, the day and the moment
change. A CompiledQuery builds the queryset once with stand-in values for its inputs,
compiles it, and finds in the parameters where each input went: the id itself, a date
at a fixed number of days from the day (today - 30, today + 7), the day's month (the
months a campaign or bundle covers), or, for a query built with `now`, a moment at a
fixed distance from it (a promo code not yet expired). It compiles a second time with
other stand-ins and refuses the query unless both compilations agree, so a parameter
it cannot place (a value computed some other way) fails at once, loudly, rather than
running with a stand-in.

The SQL being fixed, PostgreSQL need not plan it on every request either: on each
connection it is prepared once (psycopg's server-side binding, `prepare=True`) and
executed by name after that; planning the jobs page's count and page took about 3.5 ms
against 0.6 ms to run them. Still one logged query per run, so query counts are
unchanged. Behind a pooler that cannot keep prepared statements (PgBouncer in
transaction mode before 1.21), set DATABASE_PREPARED_STATEMENTS=false.

`CompiledPages` pages one for django.core.paginator.Paginator (the count and each
page's LIMIT and OFFSET in SQL), and `columns(Model)` is what to select to build
instances with `Model.from_db`.
"""

import datetime as dt
from collections.abc import Callable
from functools import cached_property

import psycopg
from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import QuerySet
from django.utils import timezone

_STAND_INS = [
    (987_654_321_001, dt.date(1901, 6, 15), dt.datetime(1901, 6, 15, 13, 7, 11, 5, tzinfo=dt.UTC)),
    (987_654_321_777, dt.date(1911, 3, 3), dt.datetime(1911, 3, 3, 7, 41, 3, 9, tzinfo=dt.UTC)),
]
_DATE_REACH = 3_650  # a date parameter this many days from the day is placed relative to it


class _PreparingCursor(psycopg.Cursor):
    """Binds parameters on the server and has each statement prepared once per
    connection. Django leaves the connection's prepare_threshold at None, which turns
    preparing off, so it is lifted for this cursor's statements only (the ClientCursor
    Django uses for every other query still prepares nothing)."""

    def execute(self, query, params=None, **kwargs):
        conn = self.connection
        threshold, conn.prepare_threshold = conn.prepare_threshold, 1 << 30  # only prepare=True prepares
        try:
            return super().execute(query, params, prepare=True)
        finally:
            conn.prepare_threshold = threshold


class _LoggedCursor(CursorDebugWrapper):
    """Logs a prepared statement as Django logs its own queries, the SQL with its
    parameters in it (Django would log psycopg's "QUERY = ... PARAMS = ..." form)."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return super(CursorDebugWrapper, self).execute(sql, params)


def _cursor():
    """A cursor for a compiled query: Django's wrapper (query logging, execute wrappers,
    its error classes) around a preparing psycopg cursor on the same connection, as
    retention.bulk.binding_cursor wraps its own."""
    if not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _PreparingCursor(connection.connection)
    return _LoggedCursor(raw, connection) if connection.queries_logged else connection.make_cursor(raw)


class CompiledQuery:
    """`build(id=..., day=...)` (and `now=...` with `uses_now`) gives the queryset;
    `rows(id=..., day=...)` runs its SQL, compiled once, and returns the rows as tuples
    (a values_list queryset's columns). `now` defaults to timezone.now(); `id` and
    `day` may be left out by a query that does not use them."""

    def __init__(self, build: Callable[..., QuerySet], *, uses_now: bool = False):
        self.build = build
        self.uses_now = uses_now

    def _compile(self, id_: int, day: dt.date, now: dt.datetime) -> tuple[str, list]:
        inputs = {"id": id_, "day": day, **({"now": now} if self.uses_now else {})}
        query = self.build(**inputs).query
        self.sliced = query.is_sliced
        return query.get_compiler(connection=connection).as_sql()

    @cached_property
    def _plan(self) -> tuple[str, list]:
        (sql, params), (other_sql, other_params) = (self._compile(*inputs) for inputs in _STAND_INS)
        if sql != other_sql or len(params) != len(other_params):
            raise ValueError("the query's SQL depends on its inputs' values")
        plan = []
        for value, other in zip(params, other_params):
            plan.append(self._place(value, other))
        return sql, plan

    @staticmethod
    def _place(value, other):
        (id_a, day_a, now_a), (id_b, day_b, now_b) = _STAND_INS
        if value == id_a and other == id_b:
            return ("id",)
        if isinstance(value, dt.datetime) and isinstance(other, dt.datetime):
            if value - now_a == other - now_b:
                return ("now", value - now_a)
        elif isinstance(value, dt.date) and isinstance(other, dt.date):
            offset = (value - day_a).days
            if abs(offset) <= _DATE_REACH and (other - day_b).days == offset:
                return ("day", offset)
        if isinstance(value, int) and not isinstance(value, bool) and (value, other) == (day_a.month, day_b.month):
            return ("month", type(value))  # int, or psycopg's Int4 that a Value() becomes
        if value == other:
            return ("constant", value)
        raise ValueError(f"cannot place the parameter {value!r} / {other!r}")

    def params(self, *, id: int | None = None, day: dt.date | None = None, now: dt.datetime | None = None) -> list:
        _sql, plan = self._plan
        used = {kind[0] for kind in plan}
        if id is None and "id" in used:
            raise ValueError("this query is built with the id: pass it")
        if day is None and used & {"day", "month"}:
            raise ValueError("this query is built with the day: pass it")
        if now is None:
            now = timezone.now()
        place = {
            "id": lambda kind: id,
            "day": lambda kind: day + dt.timedelta(days=kind[1]),
            "month": lambda kind: kind[1](day.month),
            "now": lambda kind: now + kind[1],
            "constant": lambda kind: kind[1],
        }
        return [place[kind[0]](kind) for kind in plan]

    def rows(
        self,
        *,
        id: int | None = None,
        day: dt.date | None = None,
        now: dt.datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple]:
        """The rows; `limit` rows from `offset` (parameters, so every page of a list
        runs the same prepared statement) for a query built without a slice."""
        sql, _plan = self._plan
        params = self.params(id=id, day=day, now=now)
        if limit is not None:
            if self.sliced:
                raise ValueError("the query is sliced already: build it without [a:b] to page it")
            sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
        with _cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def count(self, *, id: int | None = None, day: dt.date | None = None, now: dt.datetime | None = None) -> int:
        """How many rows `rows` would give, counted by PostgreSQL."""
        sql, _plan = self._plan
        with _cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS counted", self.params(id=id, day=day, now=now))
            return cursor.fetchone()[0]


class CompiledPages:
    """A list django.core.paginator.Paginator pages through: a CompiledQuery's rows for
    one id (and day, now), counted and sliced in SQL, each row made into what the page
    shows by `make`. Building and compiling the count and the page's query was most of
    a paged list's Python."""

    def __init__(self, query: CompiledQuery, *, make: Callable = tuple, **inputs):
        self.query, self.make, self.inputs = query, make, inputs

    def count(self) -> int:
        return self.query.count(**self.inputs)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("CompiledPages is read a page (a slice) at a time")
        start = index.start or 0
        if index.stop <= start:
            return []  # as a queryset's empty slice: no query
        rows = self.query.rows(**self.inputs, limit=index.stop - start, offset=start)
        return [self.make(row) for row in rows]


def columns(model) -> tuple[str, ...]:
    """Every column of `model`, in the order `model.from_db` takes them: a compiled
    query's values_list of these gives rows that build instances without the ORM."""
    return tuple(field.attname for field in model._meta.concrete_fields)

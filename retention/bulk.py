"""Set-based writes for batch jobs, in SQL built from the models' _meta.

bulk_create builds an instance per row and prepares every value of it in Python; for a
batch job that writes tens of thousands of rows that is most of its time. A batch job
instead sends its per-row values as arrays, one per column, which PostgreSQL turns
back into rows (`unnest`), and writes every table of the batch in one statement: one
INSERT ... SELECT per table, each a step (CTE) that may read the steps before it.

Table names, column names and constant values (choices, defaults) come from the
models here, never from hand-written SQL: a renamed table or column, or a new NOT NULL
column without a default, changes or breaks the statement in the tests, not in
production (tests/retention/test_bulk.py). outbox.batch_queue.queue_batch runs such a
statement; it is the one way batch jobs write queued emails.
"""

from dataclasses import dataclass, field

import psycopg
from django.db import connection
from django.db.models import Field, Model


def binding_cursor():
    """A cursor on the default connection that sends parameters apart from the SQL
    (server-side binding), so that %b sends them in binary. Django's cursors quote
    every parameter into the SQL text; for a batch of 500 rendered emails sent as
    arrays that costs five times the binary way (60 ms against 12 ms). Wrapped as
    connection.cursor() wraps its own, so query logging, execute_wrappers and
    django_assert_num_queries see it."""
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = psycopg.Cursor(connection.connection)
    return (
        connection.make_debug_cursor(cursor)
        if connection.queries_logged
        else connection.make_cursor(cursor)
    )


@dataclass(frozen=True)
class Same:
    """A value every row of an insert_sql() shares: a parameter, prepared as the model
    field prepares it (a choice, a date, a dict for a JSON field)."""

    value: object


@dataclass(frozen=True)
class Step:
    """One named part (CTE) of a batch statement: its SQL and the parameters it names."""

    name: str
    sql: str
    params: dict = field(default_factory=dict)


def column_type(model_field: Field) -> str:
    """The SQL type of the column a field is stored in (a foreign key's is its target's)."""
    return model_field.rel_db_type(connection) if model_field.is_relation else model_field.db_type(connection)


def insert_step(
    name: str,
    model: type[Model],
    values: dict[str, str | Same],
    *,
    source: str,
    returning: tuple[str, ...] = (),
    ignore_conflicts_on: str | None = None,
) -> Step:
    """INSERT INTO <model's table> (<its columns>) SELECT <values> FROM <source>.

    `values` maps attnames ("customer_id") to SQL over `source`'s columns (or a %(name)s
    parameter of the statement), or to Same(value). A field left out takes its model
    default when that is a constant (as bulk_create would); a default computed per row
    (uuid4, timezone.now) must be given, so rows never share by accident what was meant
    to differ; an auto id is the database's; a nullable field is NULL and a blank text
    field empty. Any other field left out is an error: a new required column breaks
    the statement where it is built. With `ignore_conflicts_on` (a unique field), a row
    whose value is already there is skipped. `returning` names attnames to return,
    each under its attname.
    """
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    if unknown := (set(values) | set(returning)) - set(by_attname):
        raise ValueError(f"{model.__name__} has no field {sorted(unknown)}")
    quote = connection.ops.quote_name
    columns, selected, params = [], [], {}
    for attname, model_field in by_attname.items():
        if attname in values and not isinstance(values[attname], Same):
            columns.append(quote(model_field.column))
            selected.append(values[attname])
            continue
        if attname in values:
            value = values[attname].value
        elif model_field.primary_key and model_field.db_returning:  # an auto-increment id
            continue
        elif model_field.has_default():
            if callable(model_field.default):
                raise ValueError(f"{model.__name__}.{attname} has a per-row default: give it")
            value = model_field.get_default()
        elif model_field.null:
            continue
        elif model_field.blank and model_field.empty_strings_allowed:
            value = ""
        else:
            raise ValueError(f"{model.__name__}.{attname} is required: give it")
        key = f"{opts.db_table}__{model_field.column}"
        columns.append(quote(model_field.column))
        selected.append(f"%({key})s")
        params[key] = model_field.get_db_prep_save(value, connection)
    sql = f"INSERT INTO {quote(opts.db_table)} ({', '.join(columns)}) SELECT {', '.join(selected)} FROM {source}"
    if ignore_conflicts_on:
        sql += f" ON CONFLICT ({quote(opts.get_field(ignore_conflicts_on).column)}) DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(f"{quote(by_attname[a].column)} AS {a}" for a in returning)
    return Step(name, sql, params)


def given_step(types: dict[str, str]) -> Step:
    """The statement's `given` rows: one array parameter per column (sent in binary),
    as rows of those columns. `types` maps each column to its SQL type."""
    arrays = ", ".join(f"%({name})b::{sql_type}[]" for name, sql_type in types.items())
    return Step("given", f"SELECT * FROM unnest({arrays}) AS given ({', '.join(types)})")


def batch_sql(steps: list[Step], result: str) -> tuple[str, dict]:
    """One statement of the steps, in order, and `result` (the final SELECT). Each
    data-modifying step runs exactly once whether or not anything reads it."""
    params = {}
    for step in steps:
        params.update(step.params)
    with_clause = ",\n".join(f"{step.name} AS (\n{step.sql}\n)" for step in steps)
    return f"WITH {with_clause}\n{result}", params


def execute_batch(sql: str, params: dict) -> tuple:
    """Runs a batch_sql() statement with its arrays bound in binary; the result's row."""
    with binding_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def insert_rows(
    model: type[Model],
    fields: list[str],
    rows: list[tuple],
    *,
    same: dict[str, object] | None = None,
    ignore_conflicts_on: str | None = None,
) -> None:
    """Inserts `rows` of `model` (each a value for each of `fields`, attnames) in one
    statement from arrays, `same` holding the values every row shares: insert_step()
    over given_step(), for rows made in Python (test data, a one-table write)."""
    step = insert_step(
        "inserted",
        model,
        {**{name: f"given.{name}" for name in fields}, **{name: Same(value) for name, value in (same or {}).items()}},
        source="given",
        ignore_conflicts_on=ignore_conflicts_on,
    )
    if not rows:
        return
    columns = dict(zip(fields, (list(values) for values in zip(*rows, strict=True)), strict=True))
    types = {name: column_type(model._meta.get_field(name)) for name in fields}
    # Each column's values, prepared as the field prepares them (a UUID, a Decimal).
    for name in fields:
        model_field = next(f for f in model._meta.concrete_fields if f.attname == name)
        columns[name] = [model_field.get_db_prep_save(value, connection) for value in columns[name]]
    sql, params = batch_sql([given_step(types), step], "SELECT 1")
    execute_batch(sql, {**params, **columns})

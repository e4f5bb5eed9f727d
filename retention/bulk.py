"""Writing a batch's rows in one statement without building a model instance per row.

bulk_create builds an instance per row and prepares every value of it in Python; for a
batch job that writes tens of thousands of rows that is most of its time. insert_rows
takes the rows column by column and sends each column as one array, which PostgreSQL
turns back into rows: INSERT ... SELECT ... FROM unnest(%b::type[], ...).
"""

from collections.abc import Sequence

import psycopg
from django.db import connection
from django.db.models import Model


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


def insert_rows(
    model: type[Model],
    fields: list[str],
    rows: Sequence[Sequence],
    *,
    same: dict[str, object] | None = None,
    ignore_conflicts_on: str | None = None,
) -> None:
    """Inserts `rows` of `model` in one statement.

    Each row holds a value for each of `fields` (attnames, e.g. "customer_id"), plain
    values psycopg adapts (str, int, date, UUID). `same` has the values every row
    shares. Any other field takes its model default, as bulk_create would; a default
    computed per row (uuid4, timezone.now) must be given, so that rows never share by
    accident what was meant to differ. With `ignore_conflicts_on` (a unique field), a
    row whose value is already there is skipped.
    """
    same = same or {}
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    if unknown := (set(fields) | set(same)) - set(by_attname):
        raise ValueError(f"{model.__name__} has no field {sorted(unknown)}")
    if not rows:
        return
    columns = dict(zip(fields, (list(values) for values in zip(*rows, strict=True)), strict=True))
    quote = connection.ops.quote_name
    names, selected, shared, arrays, array_names, array_values = [], [], [], [], [], []
    for attname, field in by_attname.items():
        if attname in columns:
            names.append(quote(field.column))
            selected.append(f"given.{quote(field.column)}")
            arrays.append(f"%b::{field.db_type(connection)}[]")
            array_names.append(quote(field.column))
            array_values.append(columns[attname])
            continue
        if attname in same:
            value = same[attname]
        elif field.primary_key and field.db_returning:  # an auto-increment id
            continue
        elif field.has_default() and callable(field.default):
            raise ValueError(f"{model.__name__}.{attname} has a per-row default: give it")
        else:
            value = field.get_default()
            if value is None:  # nullable, no default: NULL
                continue
        names.append(quote(field.column))
        selected.append("%s")
        shared.append(field.get_db_prep_save(value, connection))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS given ({', '.join(array_names)})"
    )
    if ignore_conflicts_on:
        sql += (
            f" ON CONFLICT ({quote(model._meta.get_field(ignore_conflicts_on).column)}) DO NOTHING"
        )
    with binding_cursor() as cursor:
        cursor.execute(sql, [*shared, *array_values])

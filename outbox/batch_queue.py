"""The one way a batch job writes queued emails: one statement per batch.

A batch job (seasonal, win-back, service due) sends its per-customer values as arrays
(`given`), and one statement writes everything the batch changes, each table a step
that may read the ones before it (retention.bulk): the job's own rows (codes, sends,
reminders' notifications) and, last, the outbox rows, in the caller's transaction.
The emails are filled either by the database from an EmailStencil rendered once per
run (its slots read from the batch's columns), or by Python (subject and bodies given
as columns, for a job whose emails differ by more than their slots). A job adds a
step to write one more table; every table and column name comes from the models.
"""

import datetime as dt

from retention.bulk import Same, Step, batch_sql, execute_batch, given_step, insert_step

from .models import OutboundEmail
from .stencil import EmailStencil


def queued_emails(
    *,
    source: str,
    row: str,
    key: str,
    template: str,
    kind: str,
    now: dt.datetime,
    as_of: dt.date,
    stencil: EmailStencil | None = None,
) -> Step:
    """The step writing the batch's outbox rows, one per row of `source` (SQL, naming
    its row `row`), which has the columns customer_id and email and either the
    stencil's slots (stencil.customer_slots() and the caller's own, each with its
    `_html` version), or, without a stencil, subject, text_body and html_body already
    filled. `key` is SQL for the idempotency key; a key already queued is skipped. Every
    row records the run's as-of day `as_of` (OutboundEmail.as_of: the marketing cap
    counts by it, PRODUCT.md "Time"). It returns the customers whose email it wrote."""
    if stencil is not None:
        bodies = {part: stencil.fill_sql(part, row) for part in EmailStencil.PARTS}
        headers, params = stencil.headers_sql(row), stencil.sql_params()
    else:
        bodies = {part: f"{row}.{part}" for part in EmailStencil.PARTS}
        headers, params = Same({}), {}
    step = insert_step(
        "emails",
        OutboundEmail,
        {
            "idempotency_key": key,
            "template": Same(template),
            "kind": Same(kind),
            "customer_id": f"{row}.customer_id",
            "to_email": f"{row}.email",
            "subject": bodies["subject"],
            "text_body": bodies["text_body"],
            "html_body": bodies["html_body"],
            "headers": headers,
            "next_attempt_at": Same(now),
            "created_at": Same(now),
            "as_of": Same(as_of),
        },
        source=source,
        returning=("customer_id",),
        ignore_conflicts_on="idempotency_key",
    )
    return Step(step.name, step.sql, {**step.params, **params})


def batch_statement(
    *, types: dict[str, str], steps: list[Step], emails: Step, counts: tuple[str, ...] = ("emails",)
) -> tuple[str, dict]:
    """The statement queue_batch() runs, and the parameters its steps name."""
    result = ", ".join(f"(SELECT count(*) FROM {name})" for name in counts)
    return batch_sql([given_step(types), *steps, emails], f"SELECT {result}")


def queue_batch(
    *,
    given: dict[str, list],
    types: dict[str, str],
    steps: list[Step],
    emails: Step,
    params: dict | None = None,
    counts: tuple[str, ...] = ("emails",),
) -> tuple[int, ...]:
    """Writes one batch in one statement: `given` (arrays, one per column of `types`,
    the SQL type of each) becomes the rows of the step `given`; then `steps` in order,
    then `emails` (queued_emails()). Returns how many rows each step named in `counts`
    has. Run it in a transaction; `params` are the values the steps' SQL names."""
    sql, step_params = batch_statement(types=types, steps=steps, emails=emails, counts=counts)
    return execute_batch(sql, {**step_params, **(params or {}), **given})

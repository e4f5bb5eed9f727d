"""Service co-occurrence over completed jobs: support, confidence and lift for every
ordered pair of service types, computed in one set-based statement and written in
place of the old rows in one transaction (readers see the old table or the new one,
never half of a refresh).

For services A and B over N customers with at least one completed job:
  support(A, B)    = customers who had both / N
  confidence(A->B) = customers who had both / customers who had A
  lift(A, B)       = confidence(A->B) / (customers who had B / N)
Pairs whose support is under RECOMMENDATION_MIN_SUPPORT are dropped.

Each customer's services are folded into one sorted array (their "basket"), equal
baskets are counted once, and the pairs are unnested from the distinct baskets: the
work after the one pass over the jobs is bounded by the number of distinct baskets
(at most 2^k - 1 for k services), not by the number of customers.
"""

import datetime as dt

from django.db import connection, transaction

from retention.clock import start_of_business_day
from retention.models import Job

from .models import ServicePair


def _columns(model, *names: str) -> list[str]:
    return [connection.ops.quote_name(model._meta.get_field(name).column) for name in names]


def cooccurrence_sql() -> str:
    """The INSERT ... SELECT that fills the pair table, built from the models' _meta.
    Parameters: completed, until, min_support, as_of."""
    q = connection.ops.quote_name
    job = q(Job._meta.db_table)
    customer, service, status, completed_at = _columns(
        Job, "customer", "service_type", "status", "completed_at"
    )
    pair = q(ServicePair._meta.db_table)
    p_service, p_recommended, p_customers, p_support, p_confidence, p_lift, p_as_of = _columns(
        ServicePair,
        "service_type",
        "recommended",
        "customers",
        "support",
        "confidence",
        "lift",
        "as_of",
    )
    return f"""
        WITH baskets AS MATERIALIZED (
            SELECT services, count(*) AS customers
            FROM (
                SELECT array_agg(DISTINCT {service} ORDER BY {service}) AS services
                FROM {job}
                WHERE {status} = %(completed)s AND {completed_at} < %(until)s
                GROUP BY {customer}
            ) per_customer
            GROUP BY services
        ),
        everyone AS (SELECT coalesce(sum(customers), 0)::float8 AS n FROM baskets),
        singles AS (
            SELECT s AS service, sum(customers)::float8 AS n FROM baskets, unnest(services) s GROUP BY s
        ),
        pairs AS (
            SELECT a, b, sum(customers) AS n
            FROM baskets, unnest(services) a, unnest(services) b
            WHERE a <> b
            GROUP BY a, b
        ),
        scored AS (
            SELECT p.a, p.b, p.n, p.n / e.n AS support, p.n / sa.n AS confidence, p.n * e.n / (sa.n * sb.n) AS lift
            FROM pairs p
            JOIN singles sa ON sa.service = p.a
            JOIN singles sb ON sb.service = p.b
            CROSS JOIN everyone e
        ),
        kept AS (
            INSERT INTO {pair} ({p_service}, {p_recommended}, {p_customers}, {p_support}, {p_confidence}, {p_lift}, {p_as_of})
            SELECT a, b, n, support, confidence, lift, %(as_of)s FROM scored WHERE support >= %(min_support)s
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM scored), (SELECT count(*) FROM kept), (SELECT n FROM everyone)::bigint
    """


def refresh_service_pairs(*, as_of: dt.date, min_support: float) -> dict:
    """Replaces the pair table with the co-occurrence of jobs completed up to the end of
    business day `as_of`. Returns {"pairs", "kept", "customers"}."""
    with transaction.atomic(), connection.cursor() as cursor:
        # DELETE, not TRUNCATE: readers keep reading the old rows until this commits.
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(ServicePair._meta.db_table)}")
        cursor.execute(
            cooccurrence_sql(),
            {
                "completed": Job.Status.COMPLETED,
                "until": start_of_business_day(as_of + dt.timedelta(days=1)),
                "min_support": min_support,
                "as_of": as_of,
            },
        )
        pairs, kept, customers = cursor.fetchone()
    return {"pairs": pairs, "kept": kept, "customers": customers}

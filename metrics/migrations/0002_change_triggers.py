"""Triggers that journal, in metrics_change, every fact written, changed or deleted
after the nightly roll-up (docs/metrics.md, "Daily roll-ups"): statement-level, so a
batch of 10,000 rows adds a handful of rows (one per kind and 15 minutes touched), and
append-only, so writers never wait on each other or on the nightly job."""

from django.db import migrations

# A moment rounded down to 15 minutes: every real time zone's offset is a multiple of
# 15 minutes, so the bucket's business day is the moment's.
BUCKET = "date_bin('15 minutes', {col}, TIMESTAMPTZ '2000-01-01 00:00+00')"

GENERIC = """
CREATE FUNCTION metrics_journal_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    rows text;
BEGIN
    -- TG_ARGV: the kind, then the timestamp columns whose days the row counts on.
    FOREACH rows IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new_rows'] WHEN 'DELETE' THEN ARRAY['old_rows']
                                     ELSE ARRAY['new_rows', 'old_rows'] END LOOP
        FOR i IN 1 .. TG_NARGS - 1 LOOP
            EXECUTE format(
                'INSERT INTO metrics_change (kind, at) SELECT DISTINCT %L, '
                'date_bin(''15 minutes'', %I, TIMESTAMPTZ ''2000-01-01 00:00+00'') FROM %I WHERE %I IS NOT NULL',
                TG_ARGV[0], TG_ARGV[i], rows, TG_ARGV[i]);
        END LOOP;
    END LOOP;
    RETURN NULL;
END $$;
"""

# Jobs: only what can change a figure of a closed day is journalled, so that completing
# last month's jobs does not send the page back to the records:
# - job: the job's booking moment (reminder outcomes within 14 days, bookings with
#   codes), for new and deleted jobs and for changes of cancellation, customer, service,
#   booking time or code;
# - code: the send moment of the campaign or win-back code it used (codes used,
#   revenue), for new and deleted jobs and for changes of code, amount paid or
#   cancellation;
# - history: the first moment the churn snapshots can differ from: the booking moment
#   of new and deleted jobs and of changes of customer or booking time; the old and new
#   completion and cancellation moments when they change (now, usually: no past day);
#   the earlier of the old and new dates when the date changes and one is already past
#   (UTC midnight of that date: never after its business day);
# - reminder: the send moment of the job's reminders when its service type changes.
JOBS = """
CREATE FUNCTION metrics_journal_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO metrics_change (kind, at)
        SELECT DISTINCT m.kind, {bucket} FROM (
            SELECT o.created_at AS o_created, n.created_at AS n_created, o.promo_code_id AS o_code,
                   n.promo_code_id AS n_code, n.id,
                   (o.status = 'cancelled') IS DISTINCT FROM (n.status = 'cancelled') AS cancelled,
                   o.customer_id <> n.customer_id OR o.created_at <> n.created_at AS moved,
                   o.service_type_id <> n.service_type_id AS service,
                   o.promo_code_id IS DISTINCT FROM n.promo_code_id AS code,
                   o.amount_paid <> n.amount_paid AS amount,
                   o.completed_at IS DISTINCT FROM n.completed_at AS completed,
                   o.cancelled_at IS DISTINCT FROM n.cancelled_at AS ended,
                   o.completed_at AS o_completed, n.completed_at AS n_completed,
                   o.cancelled_at AS o_cancelled, n.cancelled_at AS n_cancelled,
                   CASE WHEN o.scheduled_for <> n.scheduled_for
                             AND LEAST(o.scheduled_for, n.scheduled_for) < CURRENT_DATE + 1
                        THEN LEAST(o.scheduled_for, n.scheduled_for)::timestamp AT TIME ZONE 'UTC' END AS moved_date
            FROM old_rows o JOIN new_rows n ON n.id = o.id
        ) AS c
        CROSS JOIN LATERAL (
            SELECT 'job', c.o_created WHERE c.cancelled OR c.moved OR c.service OR c.code
            UNION ALL SELECT 'job', c.n_created WHERE c.cancelled OR c.moved OR c.service OR c.code
            UNION ALL SELECT 'history', LEAST(c.o_created, c.n_created) WHERE c.moved
            UNION ALL SELECT 'history', t FROM unnest(ARRAY[c.o_completed, c.n_completed]) AS t WHERE c.completed
            UNION ALL SELECT 'history', t FROM unnest(ARRAY[c.o_cancelled, c.n_cancelled]) AS t WHERE c.ended
            UNION ALL SELECT 'history', c.moved_date
            UNION ALL SELECT 'code', s.sent_at FROM campaigns_campaignsend s
                WHERE s.promo_code_id IN (c.o_code, c.n_code) AND (c.code OR c.amount OR c.cancelled)
            UNION ALL SELECT 'code', w.sent_at FROM reminders_winbacksend w
                WHERE w.promo_code_id IN (c.o_code, c.n_code) AND (c.code OR c.amount OR c.cancelled)
            UNION ALL SELECT 'reminder', r.sent_at FROM reminders_servicereminder r
                WHERE r.job_id = c.id AND c.service
        ) AS m(kind, at)
        WHERE m.at IS NOT NULL;
    ELSE
        EXECUTE format($sql$
            INSERT INTO metrics_change (kind, at)
            SELECT DISTINCT m.kind, {bucket} FROM %I AS j
            CROSS JOIN LATERAL (
                SELECT 'job', j.created_at
                UNION ALL SELECT 'history', j.created_at
                UNION ALL SELECT 'code', s.sent_at FROM campaigns_campaignsend s WHERE s.promo_code_id = j.promo_code_id
                UNION ALL SELECT 'code', w.sent_at FROM reminders_winbacksend w WHERE w.promo_code_id = j.promo_code_id
            ) AS m(kind, at)
        $sql$, CASE TG_OP WHEN 'INSERT' THEN 'new_rows' ELSE 'old_rows' END);
    END IF;
    RETURN NULL;
END $$;
""".format(bucket=BUCKET.format(col="m.at"))

# (table, kind, timestamp columns): the facts the daily figures count.
JOURNALLED = [
    ("campaigns_campaignsend", "campaignsend", ["sent_at"]),
    ("reminders_winbacksend", "winbacksend", ["sent_at"]),
    ("reminders_servicereminder", "reminder", ["sent_at"]),
    ("loyalty_pointsentry", "pointsentry", ["created_at"]),
    ("loyalty_redemption", "redemption", ["created_at"]),
    ("loyalty_tierupgrade", "tierupgrade", ["created_at"]),
    ("retention_outboundemail", "email", ["created_at", "sent_at"]),
]

EVENTS = [
    ("insert", "INSERT", "NEW TABLE AS new_rows"),
    ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "OLD TABLE AS old_rows"),
]


def create_triggers() -> list[str]:
    statements = [GENERIC, JOBS]
    for table, kind, columns in JOURNALLED:
        args = ", ".join(f"'{a}'" for a in [kind, *columns])
        for name, event, referencing in EVENTS:
            statements.append(
                f"CREATE TRIGGER metrics_journal_{name} AFTER {event} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION metrics_journal_changes({args})"
            )
    for name, event, referencing in EVENTS:
        statements.append(
            f"CREATE TRIGGER metrics_journal_{name} AFTER {event} ON retention_job "
            f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION metrics_journal_jobs()"
        )
    return statements


def drop_triggers() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS metrics_journal_{name} ON {table}"
        for table in [t for t, _, _ in JOURNALLED] + ["retention_job"]
        for name, _, _ in EVENTS
    ]
    return statements + [
        "DROP FUNCTION IF EXISTS metrics_journal_changes()",
        "DROP FUNCTION IF EXISTS metrics_journal_jobs()",
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0001_rollup"),
        ("retention", "0006_job_completed_by"),
        ("campaigns", "0004_metrics_indexes"),
        ("reminders", "0005_sent_at_indexes"),
        ("loyalty", "0005_plan_bonus_entries"),
        ("outbox", "0003_shared_rate"),
    ]

    operations = [
        migrations.RunSQL(create_triggers(), drop_triggers()),
        # The page counts today's deliveries (sent_at) from the outbox: without this
        # index that is a scan of every email ever queued.
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS metrics_outbox_delivered ON retention_outboundemail (sent_at) "
            "WHERE status = 'sent'",
            "DROP INDEX IF EXISTS metrics_outbox_delivered",
        ),
    ]

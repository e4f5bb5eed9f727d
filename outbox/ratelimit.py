"""Resend's rate limit for the whole deployment: every process on every host together
stays within RESEND_REQUESTS_PER_SECOND, by state they share in the database.

The account's N requests per second are N slots (outbox.models.RateSlot). A request
takes a free slot right before it leaves (one conditional UPDATE: `free_at` has
passed, nobody paused sending) and gives it back when its answer arrives; the slot is
free again one second (the window) after that answer. A slot's requests therefore
arrive at Resend more than a second apart (each leaves after the previous one's
answer plus a second, and Resend counts a request between its leaving and its
answer), so no second at Resend ever holds more than N of ours, whatever the network,
the scheduler or the number of processes and hosts does. It costs one request's
latency per slot per second. Times come from the database's clock, the one clock
every host shares; no row is locked for longer than one statement, and never across
the HTTP request.

Resend's answers count too (outbox.models.RateState, one row): `ratelimit-limit`
lowers the number of slots used (never raises it above the configured rate), a 429's
`retry-after` pauses every process until then, and `ratelimit-remaining: 0` while our
own requests have not used the second up (something else shares the team's quota)
pauses for `ratelimit-reset`.

A slot taken by a process that died before its answer (its database session gone) is
freed a window after that is noticed; one whose taker is alive but never answers is
freed after the request timeout plus the window.
"""

from dataclasses import dataclass

from django.db import connection

from .models import RateSlot, RateState

DEAD_HOLDER_MARGIN_SECONDS = 1.0  # a killed process's last request may still be on the wire
MIN_WAIT_SECONDS = 0.005
LATENCY_MARGIN_SECONDS = 0.5  # between a request's start here and its arrival at Resend


@dataclass(frozen=True)
class Slot:
    number: int
    started_at: float  # the database clock when it was taken


class SendRate:
    """The shared rate, seen by one delivery run: `take()` before each request,
    `answered()` when its answer (or failure) arrives, `pause()` for a 429."""

    def __init__(self, *, per_second: float, timeout: float):
        self.slots = max(1, int(per_second))
        self.window = max(1.0, 1.0 / per_second)  # under 1 request/s: one per 1/rate seconds
        self.stale_after = timeout + self.window + DEAD_HOLDER_MARGIN_SECONDS
        self._server_limit_seen: int | None = None
        self.sql = _Sql()

    def take(self) -> Slot | float:
        """A slot for a request that starts now, or the seconds until one may be free
        (0: try again at once)."""
        sql = self.sql
        with connection.cursor() as cursor:
            cursor.execute(sql.take, [self.stale_after, self.slots, self.slots])
            row = cursor.fetchone()
        if row is not None:
            return Slot(number=row[0], started_at=row[1])
        return self._time_to_free_slot()

    def answered(
        self,
        slot: Slot,
        *,
        headers: dict[str, str],
        retry_after: float | None = None,
        seconds_ago: float = 0.0,
    ) -> None:
        """The answer to the request in `slot` arrived `seconds_ago` (or it failed then,
        as the sending thread saw it): the slot is free a window after that.
        `retry_after`: the answer was a 429 (everyone pauses)."""
        sql = self.sql
        ago = max(0.0, seconds_ago)
        with connection.cursor() as cursor:
            cursor.execute(sql.answered, [ago, ago, self.window, slot.number, slot.started_at])
        server_limit = _number(headers.get("ratelimit-limit"))
        if server_limit:
            server_limit = max(1, int(server_limit))
            if server_limit != self._server_limit_seen:
                with connection.cursor() as cursor:
                    cursor.execute(sql.set_server_limit, [server_limit])
                self._server_limit_seen = server_limit
        if retry_after is not None:
            self.pause(retry_after)
        elif _number(headers.get("ratelimit-remaining")) == 0:
            limit = min(self.slots, server_limit or self.slots)
            with connection.cursor() as cursor:
                # Ours that Resend may have counted in the second before this arrived:
                # started up to a second (and a request's latency) before it, or just after.
                cursor.execute(
                    sql.ours_in_window,
                    [slot.started_at - 1.0 - LATENCY_MARGIN_SECONDS, slot.started_at + LATENCY_MARGIN_SECONDS],
                )
                ours = cursor.fetchone()[0]
            if ours < limit:  # the quota went elsewhere: wait as Resend says
                self.pause(_number(headers.get("ratelimit-reset")) or 1.0)

    def give_back(self, slot: Slot) -> None:
        """The slot was taken but no request left: free at once (it was free when taken,
        so its last request was answered a window ago or more)."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql.answered, [0.0, 0.0, 0.0, slot.number, slot.started_at])

    def pause(self, seconds: float) -> None:
        """No process takes a slot for `seconds` (a 429's retry-after)."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql.pause, [seconds])

    def _time_to_free_slot(self) -> float:
        sql = self.sql
        with connection.cursor() as cursor:
            cursor.execute(sql.state)
            now, paused_until, server_limit = cursor.fetchone()
            cursor.execute(sql.slots)
            slots = cursor.fetchall()
        limit = min(self.slots, server_limit or self.slots)
        usable = [s for s in slots if s[0] < limit]
        if len(usable) < limit:  # first use, or the configured rate went up
            RateSlot.objects.bulk_create(
                [RateSlot(number=n) for n in range(self.slots)], ignore_conflicts=True
            )
            return 0.0
        if self._free_slots_of_dead_holders(usable, now):
            return 0.0
        free_at = min(s[3] for s in usable)
        # At least a moment: a slot that looks free may be locked for an instant by
        # another process taking it (or, in a transaction, until that commits).
        return max(MIN_WAIT_SECONDS, max(free_at, paused_until or 0.0) - now)

    def _free_slots_of_dead_holders(self, usable: list[tuple], now: float) -> bool:
        """Slots in flight whose taker's database session is gone (the process died):
        its last request is answered or lost by now, so they are free a window (and a
        margin) from now."""
        in_flight = [s for s in usable if s[2] is None and s[4] is not None and s[3] > now]
        if not in_flight:
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [[s[4] for s in in_flight]]
            )
            alive = {pid for (pid,) in cursor.fetchall()}
            freed = 0
            for number, started_at, _, _, pid in in_flight:
                if pid not in alive:
                    cursor.execute(
                        self.sql.free_dead,
                        [self.window + DEAD_HOLDER_MARGIN_SECONDS, number, started_at],
                    )
                    freed += cursor.rowcount
        return freed > 0


class _Sql:
    """The statements, built from the models' _meta; the database's clock as epoch seconds."""

    def __init__(self):
        q = connection.ops.quote_name
        slot, state = RateSlot._meta, RateState._meta
        s = {f.name: q(f.column) for f in slot.fields}
        r = {f.name: q(f.column) for f in state.fields}
        slot_table, state_table = q(slot.db_table), q(state.db_table)
        now = "extract(epoch from clock_timestamp())::float8"
        least, greatest, skip_locked, pid = "LEAST", "GREATEST", "FOR UPDATE SKIP LOCKED", "pg_backend_pid()"
        self.take = f"""
            UPDATE {slot_table} SET {s['started_at']} = {now}, {s['answered_at']} = NULL,
                   {s['free_at']} = {now} + %s, {s['holder_pid']} = {pid}
            WHERE {s['number']} = (
                SELECT {s['number']} FROM {slot_table}
                WHERE {s['number']} < {least}(%s, COALESCE(
                        (SELECT {r['server_limit']} FROM {state_table} WHERE {r['id']} = 1), %s))
                  AND {s['free_at']} <= {now}
                ORDER BY {s['free_at']}, {s['number']} LIMIT 1 {skip_locked})
              AND NOT EXISTS (
                SELECT 1 FROM {state_table} WHERE {r['id']} = 1 AND {r['paused_until']} > {now})
            RETURNING {s['number']}, {s['started_at']}"""
        self.answered = f"""
            UPDATE {slot_table} SET {s['answered_at']} = {now} - %s,
                   {s['free_at']} = {now} - %s + %s, {s['holder_pid']} = NULL
            WHERE {s['number']} = %s AND {s['started_at']} = %s"""
        self.free_dead = f"""
            UPDATE {slot_table} SET {s['answered_at']} = {now}, {s['free_at']} = {now} + %s,
                   {s['holder_pid']} = NULL
            WHERE {s['number']} = %s AND {s['started_at']} = %s AND {s['answered_at']} IS NULL"""
        self.ours_in_window = f"""
            SELECT COUNT(*) FROM {slot_table} WHERE {s['started_at']} > %s AND {s['started_at']} <= %s"""
        self.state = f"""
            SELECT {now},
                   (SELECT {r['paused_until']} FROM {state_table} WHERE {r['id']} = 1),
                   (SELECT {r['server_limit']} FROM {state_table} WHERE {r['id']} = 1)"""
        self.slots = f"""
            SELECT {s['number']}, {s['started_at']}, {s['answered_at']}, {s['free_at']}, {s['holder_pid']}
            FROM {slot_table} ORDER BY {s['number']}"""
        self.pause = f"""
            INSERT INTO {state_table} ({r['id']}, {r['paused_until']}, {r['server_limit']})
            VALUES (1, {now} + %s, NULL)
            ON CONFLICT ({r['id']}) DO UPDATE SET {r['paused_until']} =
                {greatest}({state_table}.{r['paused_until']}, excluded.{r['paused_until']})"""
        self.set_server_limit = f"""
            INSERT INTO {state_table} ({r['id']}, {r['paused_until']}, {r['server_limit']})
            VALUES (1, 0, %s)
            ON CONFLICT ({r['id']}) DO UPDATE SET {r['server_limit']} = excluded.{r['server_limit']}"""


def _number(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None

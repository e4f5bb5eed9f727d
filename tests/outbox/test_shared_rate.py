"""The account's rate is shared through the database (outbox.ratelimit): the configured
rate holds even when Resend would allow more, a 429 pauses every process, a dead
process's slot comes back, and no delivery waits while holding the delivery lock."""

import threading
import time

import pytest
from django.db import connection, connections

from outbox.delivery import deliver_pending
from outbox.models import OutboundEmail, RateSlot, RateState
from outbox.ratelimit import SendRate, Slot
from retention.locks import lock_key
from tests.factories import OutboundEmailFactory

Status = OutboundEmail.Status


def in_own_connection(work):
    """Runs work() on another thread with its own database connection (another process,
    as far as PostgreSQL is concerned), and returns what it returned."""
    box = {}

    def run():
        try:
            box["value"] = work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return box.get("value")


@pytest.mark.django_db
def test_the_configured_rate_holds_when_resend_allows_more(fake_resend, settings):
    fake_resend.rate_limit = 10  # Resend's answers say 10 ...
    settings.RESEND_REQUESTS_PER_SECOND = 2  # ... the account is configured for 2
    settings.RESEND_MAX_IN_FLIGHT = 4
    settings.EMAIL_BATCH_SIZE = 5
    OutboundEmailFactory.create_batch(40)  # 8 requests: about 4 seconds at 2/s

    stats = deliver_pending()

    assert stats["sent"] == 40 and len(fake_resend.requests) == 8
    assert fake_resend.max_requests_in_any_second() <= 2
    assert RateState.objects.get().server_limit == 10  # seen, and it did not raise the rate
    assert set(RateSlot.objects.filter(started_at__isnull=False).values_list("number", flat=True)) <= {0, 1}


@pytest.mark.django_db
def test_a_slot_is_taken_at_most_once_a_window_after_its_answer():
    rate = SendRate(per_second=1, timeout=5)
    assert rate.take() == 0.0  # first use: the slots are created
    slot = rate.take()
    assert isinstance(slot, Slot)
    # In flight: free only when answered, or after the request's timeout, a window and a
    # margin (a taker that never answers).
    assert 6.8 < rate.take() <= 7.0

    rate.answered(slot, headers={})
    wait = rate.take()
    assert 0.9 < wait <= 1.0  # a window after the answer

    time.sleep(wait)
    assert isinstance(rate.take(), Slot)


@pytest.mark.django_db
@pytest.mark.parametrize("per_second,window", [(2, 1.0), (0.5, 2.0)])
def test_the_window_is_a_second_or_one_request_per_rate_under_one_a_second(per_second, window):
    rate = SendRate(per_second=per_second, timeout=5)
    rate.take()  # creates the slots: 2, or 1 under one request a second
    slots = [rate.take() for _ in range(max(1, int(per_second)))]
    for slot in slots:
        rate.answered(slot, headers={})

    wait = rate.take()
    assert isinstance(wait, float) and window - 0.2 < wait <= window


@pytest.mark.django_db
def test_under_resends_lower_limit_the_wait_is_for_a_slot_it_allows():
    rate = SendRate(per_second=5, timeout=5)
    rate.take()  # creates slots 0-4
    first, second = rate.take(), rate.take()
    rate.answered(first, headers={"ratelimit-limit": "2"})
    rate.answered(second, headers={"ratelimit-limit": "2"})

    wait = rate.take()  # slots 2-4 were never used, but Resend allows 2
    assert isinstance(wait, float) and 0.8 < wait <= 1.0


@pytest.mark.django_db
def test_a_higher_configured_rate_adds_slots_to_those_there():
    SendRate(per_second=2, timeout=5).take()  # creates slots 0 and 1
    rate = SendRate(per_second=3, timeout=5)
    taken = [rate.take() for _ in range(4)]

    assert [getattr(t, "number", t) for t in taken] == [0, 1, 0.0, 2]  # 0.0: slot 2 was created
    assert RateSlot.objects.count() == 3


def database_now() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extract(epoch from clock_timestamp())::float8")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_slot_given_back_unused_is_free_at_once():
    """A slot taken for a batch that turned out sent meanwhile (outbox.delivery gives it
    back): no request left, so it is answered now and free now, not a window later."""
    rate = SendRate(per_second=1, timeout=5)
    rate.take()  # creates the slot
    slot = rate.take()

    rate.give_back(slot)

    now = database_now()
    row = RateSlot.objects.get(number=slot.number)
    assert row.holder_pid is None
    assert now - 0.5 < row.answered_at <= now and now - 0.5 < row.free_at <= now
    assert isinstance(rate.take(), Slot)  # taken again at once


@pytest.mark.django_db
def test_resends_limit_is_kept_as_said_and_written_only_when_it_changes(django_assert_num_queries):
    rate = SendRate(per_second=5, timeout=5)
    rate.take()  # creates the slots
    first, second = rate.take(), rate.take()

    rate.answered(first, headers={"ratelimit-limit": "1"})
    assert RateState.objects.get().server_limit == 1
    with django_assert_num_queries(1):  # the answer only: the same limit is not written again
        rate.answered(second, headers={"ratelimit-limit": "1"})


@pytest.mark.django_db
@pytest.mark.parametrize("reset,pause", [("3", 3.0), (None, 1.0)])
def test_resend_out_of_quota_that_we_did_not_use_pauses_until_its_reset(reset, pause):
    """ratelimit-remaining: 0 while our own requests have not used the second up:
    something else shares the team's quota, so every process waits for ratelimit-reset
    (a second when Resend does not say)."""
    rate = SendRate(per_second=5, timeout=5)
    rate.take()
    headers = {"ratelimit-limit": "5", "ratelimit-remaining": "0"}
    if reset is not None:
        headers["ratelimit-reset"] = reset

    rate.answered(rate.take(), headers=headers)

    wait = rate.take()
    assert isinstance(wait, float) and pause - 0.2 < wait <= pause


@pytest.mark.django_db
def test_quota_left_or_used_up_by_our_own_requests_does_not_pause():
    rate = SendRate(per_second=5, timeout=5)
    rate.take()
    first, second = rate.take(), rate.take()

    rate.answered(first, headers={"ratelimit-limit": "5", "ratelimit-remaining": "1", "ratelimit-reset": "3"})
    # Resend lowered the limit to 2, and our own two requests of that second used it up:
    rate.answered(second, headers={"ratelimit-limit": "2", "ratelimit-remaining": "0", "ratelimit-reset": "3"})

    assert RateState.objects.get().paused_until < database_now()


@pytest.mark.django_db
@pytest.mark.parametrize("earlier,pauses", [(1.0, False), (2.0, True)])
def test_ours_in_resends_used_up_second_are_those_started_up_to_a_second_and_a_half_before(earlier, pauses):
    """Resend counts a request from its leaving to its answer: our requests that may be in
    the second it says is used up started up to a second (plus a request's latency)
    before the answered one. One of two, started `earlier` seconds before it."""
    rate = SendRate(per_second=2, timeout=5)
    rate.take()
    other, answered = rate.take(), rate.take()
    RateSlot.objects.filter(number=other.number).update(started_at=answered.started_at - earlier)

    rate.answered(answered, headers={"ratelimit-limit": "2", "ratelimit-remaining": "0", "ratelimit-reset": "3"})

    assert (RateState.objects.get().paused_until > database_now()) is pauses


@pytest.mark.django_db
def test_waiting_with_no_slot_in_flight_looks_for_no_dead_holder(django_assert_num_queries):
    rate = SendRate(per_second=2, timeout=5)
    rate.take()  # creates slots 0 and 1
    rate.answered(rate.take(), headers={})  # slot 0: answered, free a window later
    rate.pause(5)  # slot 1: never taken

    with django_assert_num_queries(3):  # the take, the state, the slots; no pg_stat_activity
        wait = rate.take()
    assert 4.8 < wait <= 5.0


@pytest.mark.django_db(transaction=True)
def test_dead_holders_slots_count_as_freed_when_the_last_was_answered_meanwhile():
    """A dead process's two slots, the second answered between reading the slots and
    freeing them: one was freed, so the caller tries again at once."""
    rate = SendRate(per_second=2, timeout=60)
    rate.take()  # creates the slots
    taken = in_own_connection(lambda: [rate.take(), rate.take()])  # that process dies holding both
    time.sleep(0.2)  # the server notices the closed session
    now = database_now()
    read = list(
        RateSlot.objects.order_by("number").values_list("number", "started_at", "answered_at", "free_at", "holder_pid")
    )
    rate.answered(taken[1], headers={})

    assert rate._free_slots_of_dead_holders(read, now) is True
    assert RateSlot.objects.get(number=taken[0].number).answered_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_429_pauses_every_process(settings):
    rate = SendRate(per_second=5, timeout=5)
    rate.take()  # creates the slots
    slot = rate.take()
    rate.answered(slot, headers={"ratelimit-limit": "5"}, retry_after=2)

    # Another process, with its own connection and its own view of the rate:
    wait = in_own_connection(lambda: SendRate(per_second=5, timeout=5).take())

    assert isinstance(wait, float) and 1.8 < wait <= 2.0


@pytest.mark.django_db(transaction=True)
def test_a_dead_processes_slot_is_free_soon_not_after_the_timeout():
    rate = SendRate(per_second=1, timeout=60)
    rate.take()  # creates the slot

    taken = in_own_connection(rate.take)  # that process takes it, then dies unanswered
    assert isinstance(taken, Slot)
    time.sleep(0.2)  # the server notices the closed session

    wait = rate.take()
    assert isinstance(wait, float) and wait == 0.0  # the dead holder's slot was released ...
    wait = rate.take()
    assert 1.5 < wait <= 2.0  # ... for a window and a margin from now, not 60 s


@pytest.mark.django_db(transaction=True)
def test_a_live_processes_slot_is_not_taken_while_in_flight():
    rate = SendRate(per_second=1, timeout=60)
    rate.take()
    holding, release = threading.Event(), threading.Event()

    def hold():
        slot = rate.take()
        holding.set()
        release.wait(10)
        return slot

    box = {}
    thread = threading.Thread(target=lambda: box.update(slot=in_own_connection(hold)))
    thread.start()
    holding.wait(10)
    try:
        assert rate.take() > 50  # in flight elsewhere: not free before its answer
    finally:
        release.set()
        thread.join(10)
    assert isinstance(box["slot"], Slot)


@pytest.mark.django_db(transaction=True)
def test_waiting_after_a_429_lets_the_delivery_lock_go(fake_resend, settings):
    settings.RESEND_REQUESTS_PER_SECOND = 5
    fake_resend.rate_limit_next(1, retry_after=2)
    OutboundEmailFactory.create_batch(3)
    result = {}
    runner = threading.Thread(target=lambda: result.update(in_own_connection(lambda: deliver_pending())))
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while not fake_resend.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the 429 is recorded; the run now waits out the pause

        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key("delivery")])
            got_it = cursor.fetchone()[0]
            if got_it:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key("delivery")])
    finally:
        runner.join(20)

    assert got_it, "the delivery lock was held through the 429's pause"
    assert result["sent"] == 3
    first, second = fake_resend.requests
    assert first.status == 429 and second.status == 200 and second.time - first.time >= 2.0
    assert OutboundEmail.objects.filter(status=Status.SENT).count() == 3

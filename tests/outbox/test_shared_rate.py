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
    assert rate.take() > 4  # in flight: free only when answered (or the timeout passes)

    rate.answered(slot, headers={})
    wait = rate.take()
    assert 0.9 < wait <= 1.0  # a window after the answer

    time.sleep(wait)
    assert isinstance(rate.take(), Slot)


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

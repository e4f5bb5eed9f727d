"""After-response delivery: a web request's emails go out right after its transaction
commits, on one background thread per process under the web server, so the response
never waits for Resend."""

import logging
import queue
import threading
import time
from collections.abc import Collection

from django.conf import settings
from django.db import close_old_connections, connection

from .batches import BATCH_LIMIT
from .delivery import deliver_pending

log = logging.getLogger(__name__)
SOON_LOCK_ATTEMPTS, SOON_LOCK_PAUSE_SECONDS = 5, 0.1  # deliver_soon's wait: half a second at most


class AfterResponseDelivery:
    """One background thread per process that delivers what web requests queued.

    Requests hand it their emails' keys after commit and answer at once; the thread
    sends everything handed to it so far in one go, waiting for the delivery lock if
    another process holds it (nobody is waiting on this thread), and keeps its database
    connection between sends as CONN_MAX_AGE allows. When the process exits, `finish()`
    (gunicorn's worker_exit hook, config/gunicorn.py) lets it send what it holds first;
    whatever it still has not sent after STOP_WAIT_SECONDS (Resend down, say) stays in
    the outbox (pending, or `sending` with its batch key) and deliver_emails sends it
    exactly once.
    """

    STOP_WAIT_SECONDS = 20.0  # under gunicorn's graceful_timeout (config/gunicorn.py)

    def __init__(self):
        self._keys: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, keys: list[str]) -> None:
        self._keys.put(keys)
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="deliver-after-response", daemon=True)
                self._thread.start()

    def finish(self) -> None:
        """Lets the thread send what it was handed, then stop and close its connection
        (waiting at most STOP_WAIT_SECONDS)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._keys.put(None)
            thread.join(self.STOP_WAIT_SECONDS)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            handed = [self._keys.get()]
            while True:
                try:
                    handed.append(self._keys.get_nowait())
                except queue.Empty:
                    break
            stopping = None in handed
            keys = [key for batch in handed if batch for key in batch]
            close_old_connections()  # honour CONN_MAX_AGE and health checks between sends
            for start in range(0, len(keys), BATCH_LIMIT):
                try:
                    deliver_pending(keys=keys[start : start + BATCH_LIMIT], wait_for_lock=True)
                except Exception:  # the outbox keeps the rows; deliver_emails retries them
                    log.exception("Delivering after the response failed; deliver_emails will retry")
        connection.close()


after_response_delivery = AfterResponseDelivery()


def deliver_after_response(keys: Collection[str]) -> None:
    """Delivers a web request's emails without keeping its visitor waiting: handed to
    the process's delivery thread when EMAIL_DELIVER_IN_BACKGROUND is on (the WSGI
    server: config/wsgi.py turns it on), inline otherwise (commands, tests). A send cut
    short leaves its rows pending or `sending` with their batch key, and deliver_emails
    finishes them exactly once."""
    keys = list(keys)
    if not keys:
        return
    if settings.EMAIL_DELIVER_IN_BACKGROUND:
        after_response_delivery.submit(keys)
    else:
        deliver_soon(keys)


def deliver_soon(keys: Collection[str]) -> None:
    """Called after a web request's transaction commits, with the idempotency keys of
    the emails it queued: sends those (at most one batch's worth) and nothing else, so
    a request never waits for someone else's backlog (a seasonal run's thousands).
    Whatever is left, failures included, goes with deliver_emails.

    When another process is delivering, it tries again briefly (that one may be a
    request sending only its own email), then leaves the rest to deliver_emails.
    """
    keys = list(keys)[:BATCH_LIMIT]
    if not keys:
        return
    try:
        for attempt in range(SOON_LOCK_ATTEMPTS):
            if attempt:
                time.sleep(SOON_LOCK_PAUSE_SECONDS)
            stats = deliver_pending(keys=keys, wait_for_lock=False, retry_wait_seconds=0)
            if not stats.get("busy"):
                return
    except Exception:  # the outbox keeps the row; deliver_emails retries it
        log.exception("Delivering right after commit failed; deliver_emails will retry")


"""Resend's rate limit, and the HTTP client the resend SDK sends through.

The SDK's requests go through LimitedRequestsClient, which takes a slot from the
limiter right before the bytes leave and applies our timeout.
"""

import json
import threading
import time
from collections import deque

import requests
from resend.http_client import HTTPClient


class RateLimiter:
    """At most `limit` requests in any one second, shared by every sending thread.

    Resend counts a request when it arrives, which is some time after it leaves here and
    before its answer comes back. So a new request may start only one second after the
    answer to the request `limit` places back: whatever the network or the scheduler
    does in between, no second at Resend ever holds more than `limit` of ours. It costs
    one request's latency per second of sending. Requests are also spaced at least
    half an interval apart (no bursts). Resend's answers count too: `ratelimit-limit`
    lowers the limit (never raises it), a 429's `retry-after` pauses everyone, and
    `ratelimit-remaining: 0` while this process has not used the window up (someone else
    shares the team's quota) waits `ratelimit-reset`.
    """

    def __init__(self, limit: float):
        self.configured_limit = limit
        self.limit = limit
        self._starts: deque[float] = deque()  # start times, oldest first
        self._ends: deque[float | None] = deque()  # answer times (None while in flight)
        self._paused_until = 0.0
        self._offset = 0  # tickets handed out before the oldest entry kept
        self._cond = threading.Condition()

    def reset(self, limit: float) -> None:
        """A new delivery run starts from the configured limit."""
        with self._cond:
            self.configured_limit = self.limit = limit

    def acquire(self) -> int:
        """Blocks until a request may start; returns a ticket for `answered`."""
        with self._cond:
            while True:
                now = time.monotonic()
                per_window = max(1, int(self.limit))
                window = max(1.0, 1.0 / self.limit)  # under 1 request/s: one per 1/limit seconds
                while len(self._starts) > per_window and self._ends[0] is not None:
                    self._starts.popleft()
                    self._ends.popleft()
                    self._offset += 1
                wait_for = self._paused_until - now
                if self._starts:
                    wait_for = max(wait_for, self._starts[-1] + 0.5 / self.limit - now)
                waiting_for_answer = False
                if len(self._starts) >= per_window:
                    reference = self._ends[-per_window]
                    if reference is None:
                        waiting_for_answer = True  # answered() wakes us
                    else:
                        wait_for = max(wait_for, reference + window - now)
                if wait_for <= 0 and not waiting_for_answer:
                    self._starts.append(now)
                    self._ends.append(None)
                    return self._offset + len(self._starts) - 1
                self._cond.wait(wait_for if wait_for > 0 else 5.0)

    def answered(self, ticket: int) -> None:
        """The answer to the request with this ticket has arrived (or it failed)."""
        with self._cond:
            index = ticket - self._offset
            if 0 <= index < len(self._ends):
                self._ends[index] = time.monotonic()
            self._cond.notify_all()

    def pause(self, seconds: float) -> None:
        with self._cond:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self._cond.notify_all()

    def observe(self, headers: dict[str, str], ticket: int) -> None:
        """Reads Resend's rate-limit headers from the answer to the request `ticket`."""
        server_limit = _number(headers.get("ratelimit-limit"))
        if server_limit:
            with self._cond:
                self.limit = min(self.configured_limit, server_limit)
        if _number(headers.get("ratelimit-remaining")) == 0:
            reset = _number(headers.get("ratelimit-reset")) or 1.0
            with self._cond:
                index = ticket - self._offset
                started = (
                    self._starts[index] if 0 <= index < len(self._starts) else time.monotonic()
                )
                mine = sum(1 for t in self._starts if started - 1.0 < t <= started)
            if mine < self.limit:  # the quota went elsewhere: wait as Resend says
                self.pause(reset)


def _number(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


_limiter = RateLimiter(2)


class LimitedRequestsClient(HTTPClient):
    """The SDK's HTTP client with our rate limiter and timeout: the limiter slot is taken
    after the body is encoded, right before the bytes leave, and connections are kept
    alive (one session per thread)."""

    def __init__(self, limiter: RateLimiter):
        self.limiter = limiter
        self.timeout = 10.0
        self._local = threading.local()
        self.last_ticket = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def request(self, method, url, headers, json=None, files=None, data=None):
        body = None if json is None else _json_bytes(json)
        headers = {**headers, "Content-Type": "application/json"}
        ticket = self.last_ticket.value = self.limiter.acquire()
        try:
            resp = self._session().request(
                method, url, headers=headers, data=body, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise RuntimeError(f"timed out after {self.timeout:g}s: {exc}") from exc
        except requests.RequestException as exc:
            raise RuntimeError(f"request failed: {exc}") from exc
        finally:
            self.limiter.answered(ticket)
        return resp.content, resp.status_code, resp.headers


def _json_bytes(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


_http_client = LimitedRequestsClient(_limiter)


"""A fake Resend API on 127.0.0.1 for tests, benchmarks and local development.

It speaks the two endpoints the `resend` SDK sends email with (POST /emails and
POST /emails/batch), the way Resend does:
- `Authorization: Bearer <key>` (401 missing, 403 wrong key);
- `Idempotency-Key`: the same key with the same body answers the first response
  again without accepting anything twice (kept 24 hours); the same key with another
  body is 409 invalid_idempotent_request; while the first is still being processed,
  409 concurrent_idempotent_requests;
- strict batch validation (one invalid email rejects the whole batch with 422);
- a strict rate limit of N requests in any one second (a sliding window over arrival
  times, whoever sends them: every process and host of a deployment counts against
  it): over it, 429 rate_limit_exceeded with `retry-after`, counted in `violations`;
  every answer carries `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset`
  (seconds), as Resend's API does.

Knobs inject trouble: `fail_next(n, status=503)`, `rate_limit_next(n, retry_after=1)`,
`slow_next(n, seconds)` (the email is accepted, then the answer is delayed: the
client may time out without knowing) and `reject_next(n)` (422).

Run it by hand (or in its own process, as the multi-process tests and the benchmark
do): `python -m tests.fake_resend --port 8025 --rate 2`, then set
RESEND_API_URL=http://127.0.0.1:8025 and RESEND_API_KEY=re_fake. What it saw is at
GET /_fake/summary, /_fake/requests and /_fake/recipients (not Resend's endpoints).
"""

import argparse
import hashlib
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
EMAIL_RE = re.compile(r"^(?:[^<>@\s]+ )*<?[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>?$")


@dataclass
class RecordedRequest:
    time: float  # time.monotonic() when the request's headers arrived
    wall_time: float  # time.time() at the same moment
    method: str
    path: str
    idempotency_key: str | None
    status: int = 0
    emails: int = 0  # emails in the body
    replayed: bool = False  # answered from the idempotency cache


@dataclass
class _Fault:
    status: int
    error_type: str
    message: str
    retry_after: float | None = None


@dataclass
class _IdempotentResult:
    body_hash: str
    status: int | None = None  # None while the first request is in progress
    response: dict | None = None
    stored_at: float = field(default_factory=time.monotonic)


class FakeResend:
    """The server and what it saw. Thread-safe: the HTTP server has a thread per request."""

    def __init__(
        self,
        *,
        api_key: str = "re_fake_test_key",
        rate_limit: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.api_key = api_key
        self.rate_limit = rate_limit  # requests per any one second; None = unlimited
        self.emails: list[dict] = []  # accepted emails, in order, each with its "id"
        self.requests: list[RecordedRequest] = []
        self.violations = 0  # requests refused by the rate limit (not injected 429s)
        # on_request(record, phase) is called at "received" (body read; return "drop" to
        # close the connection unanswered, as if the request never arrived), "handled"
        # (emails accepted or refused, not yet answered) and "answered".
        self.on_request = None
        self._lock = threading.Lock()
        self._faults: deque[_Fault] = deque()
        self._slow: deque[float] = deque()
        self._window: deque[float] = deque()  # arrival times of requests counted by the limit
        self._idempotency: dict[str, _IdempotentResult] = {}
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeResend":
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-resend", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- knobs -------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, *, status: int = 503, message: str = "Injected server error"
    ) -> None:
        """The next n requests answer `status` (a 5xx) and accept nothing."""
        with self._lock:
            self._faults.extend(_Fault(status, "application_error", message) for _ in range(n))

    def rate_limit_next(self, n: int = 1, *, retry_after: float = 1) -> None:
        """The next n requests answer 429 with `retry-after` and accept nothing."""
        with self._lock:
            self._faults.extend(
                _Fault(429, "rate_limit_exceeded", "Too many requests.", retry_after)
                for _ in range(n)
            )

    def reject_next(self, n: int = 1, *, message: str = "Injected validation error") -> None:
        """The next n requests answer 422 validation_error and accept nothing."""
        with self._lock:
            self._faults.extend(_Fault(422, "validation_error", message) for _ in range(n))

    def slow_next(self, n: int = 1, *, seconds: float = 2.0) -> None:
        """The next n requests are processed (emails accepted), then answered `seconds` late."""
        with self._lock:
            self._slow.extend([seconds] * n)

    # --- what happened -----------------------------------------------------------

    def accepted_recipients(self) -> list[str]:
        with self._lock:
            return [to for email in self.emails for to in _as_list(email.get("to"))]

    def max_requests_in_any_second(self, *, statuses: tuple[int, ...] | None = None) -> int:
        """The most requests that arrived within any one second (sliding window)."""
        with self._lock:
            times = sorted(
                r.time for r in self.requests if statuses is None or r.status in statuses
            )
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def reset(self) -> None:
        with self._lock:
            self.emails.clear()
            self.requests.clear()
            self._faults.clear()
            self._slow.clear()
            self._window.clear()
            self._idempotency.clear()
            self.violations = 0

    # --- the API -----------------------------------------------------------------

    def _rate_headers(self, now: float) -> dict[str, str]:
        if not self.rate_limit:
            return {}
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        remaining = max(0, self.rate_limit - len(self._window))
        reset = 0 if remaining else max(1, math.ceil(1.0 - (now - self._window[0])))
        return {
            "ratelimit-limit": str(self.rate_limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
        }

    def summary(self) -> dict:
        with self._lock:
            statuses: dict[str, int] = {}
            for r in self.requests:
                statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
            accepted = len(self.emails)
            requests = len(self.requests)
            violations = self.violations
        return {
            "accepted": accepted,
            "requests": requests,
            "violations": violations,
            "statuses": statuses,
            "maxRequestsInAnySecond": self.max_requests_in_any_second(statuses=(200,)),
        }

    def handle(
        self,
        *,
        method: str,
        path: str,
        headers,
        body: bytes,
        arrived: float,
        record: RecordedRequest,
    ):
        """Returns (status, json body, extra headers, delay before answering)."""
        if path == "/_fake/summary":  # not Resend's: what this fake saw, for benchmarks
            return 200, self.summary(), {}, 0
        if path == "/_fake/recipients":  # every accepted email's `to`, in order
            return 200, {"recipients": self.accepted_recipients()}, {}, 0
        if path == "/_fake/requests":
            with self._lock:
                rows = [[r.time, r.status, r.emails, r.idempotency_key] for r in self.requests]
            return 200, {"requests": rows}, {}, 0
        if path == "/_fake/reset" and method == "POST":
            self.reset()
            return 200, {"reset": True}, {}, 0
        if method != "POST" or path not in ("/emails", "/emails/batch"):
            return 404, _error(404, "not_found", "The requested endpoint does not exist."), {}, 0
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth == "Bearer None":
            return (
                401,
                _error(401, "missing_api_key", "Missing API key in the authorization header."),
                {},
                0,
            )
        if auth.removeprefix("Bearer ") != self.api_key:
            return 403, _error(403, "invalid_api_key", "API key is invalid."), {}, 0

        with self._lock:
            # The rate limit comes first, as at Resend: a refused request counts nothing.
            if self.rate_limit:
                while self._window and arrived - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate_limit:
                    self.violations += 1
                    wait = max(1, math.ceil(1.0 - (arrived - self._window[0])))
                    rate = self._rate_headers(arrived)
                    return (
                        429,
                        _error(429, "rate_limit_exceeded", "Too many requests."),
                        {**rate, "retry-after": str(wait)},
                        0,
                    )
                self._window.append(arrived)
            rate = self._rate_headers(arrived)
            if self._faults:
                fault = self._faults.popleft()
                extra = dict(rate)
                if fault.retry_after is not None:
                    extra["retry-after"] = _seconds(fault.retry_after)
                return fault.status, _error(fault.status, fault.error_type, fault.message), extra, 0
            delay = self._slow.popleft() if self._slow else 0

        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return 400, _error(400, "validation_error", "The body is not valid JSON."), rate, delay
        batch = path == "/emails/batch"
        emails = payload if batch else [payload]
        record.emails = len(emails) if isinstance(emails, list) else 0

        key = headers.get("Idempotency-Key")
        body_hash = hashlib.sha256(path.encode() + b"\0" + body).hexdigest()
        if key is not None:
            if not 1 <= len(key) <= 256:
                return (
                    400,
                    _error(400, "invalid_idempotency_key", "The key must be 1-256 characters."),
                    rate,
                    delay,
                )
            with self._lock:
                now = time.monotonic()
                known = self._idempotency.get(key)
                if known and now - known.stored_at > IDEMPOTENCY_TTL_SECONDS:
                    known = None
                if known:
                    if known.body_hash != body_hash:
                        return (
                            409,
                            _error(
                                409,
                                "invalid_idempotent_request",
                                "This idempotency key was used with another payload.",
                            ),
                            rate,
                            delay,
                        )
                    if known.status is None:
                        return (
                            409,
                            _error(
                                409,
                                "concurrent_idempotent_requests",
                                "A request with this idempotency key is in progress.",
                            ),
                            rate,
                            delay,
                        )
                    record.replayed = True
                    return known.status, known.response, rate, delay
                self._idempotency[key] = _IdempotentResult(body_hash=body_hash)

        status, response = self._accept(emails, batch=batch)
        if key is not None:
            with self._lock:
                if status == 200:
                    self._idempotency[key].status, self._idempotency[key].response = (
                        status,
                        response,
                    )
                else:  # a refused request may be retried with the same key
                    self._idempotency.pop(key, None)
        return status, response, rate, delay

    def _accept(self, emails, *, batch: bool) -> tuple[int, dict]:
        if not isinstance(emails, list) or (batch and not 1 <= len(emails) <= 100):
            return 422, _error(422, "validation_error", "A batch holds 1 to 100 emails.")
        for index, email in enumerate(emails):
            problem = _invalid(email)
            if problem:
                where = f"emails[{index}]: " if batch else ""
                return 422, _error(422, "validation_error", f"{where}{problem}")
        accepted = []
        with self._lock:
            for email in emails:
                accepted.append({"id": str(uuid.uuid4()), **email})
            self.emails.extend(accepted)
        if batch:
            return 200, {"data": [{"id": e["id"]} for e in accepted]}
        return 200, {"id": accepted[0]["id"]}


def _invalid(email) -> str | None:
    if not isinstance(email, dict):
        return "Each email must be an object."
    for name in ("from", "to", "subject"):
        if not email.get(name):
            return f"The `{name}` field is missing."
    if not (email.get("html") or email.get("text")):
        return "The email needs `html` or `text`."
    for address in [email["from"], *_as_list(email["to"])]:
        if not EMAIL_RE.match(str(address)):
            return f"Invalid email address: {address!r}."
    return None


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _error(status: int, name: str, message: str) -> dict:
    return {"statusCode": status, "name": name, "message": message}


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def _make_handler(fake: FakeResend):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's requests session expects
        disable_nagle_algorithm = True  # headers and body leave at once (no delayed-ACK stalls)

        def _serve(self):
            arrived = time.monotonic()
            record = RecordedRequest(
                time=arrived,
                wall_time=time.time(),
                method=self.command,
                path=self.path,
                idempotency_key=self.headers.get("Idempotency-Key"),
            )
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if fake.on_request and fake.on_request(record, "received") == "drop":
                self.close_connection = True
                return
            status, response, extra, delay = fake.handle(
                method=self.command,
                path=self.path,
                headers=self.headers,
                body=body,
                arrived=arrived,
                record=record,
            )
            record.status = status
            if not self.path.startswith("/_fake/"):
                with fake._lock:
                    fake.requests.append(record)
            if fake.on_request:
                fake.on_request(record, "handled")
            if delay:
                time.sleep(delay)
            data = json.dumps(response).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout); the emails stay accepted
            if fake.on_request:
                fake.on_request(record, "answered")

        do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a fake Resend API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--rate", type=int, default=2, help="requests per second (0: unlimited)")
    parser.add_argument("--api-key", default="re_fake")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args()
    fake = FakeResend(api_key=args.api_key, rate_limit=args.rate or None, port=args.port).start()
    print(
        f"Fake Resend at {fake.url} (key {args.api_key}, {args.rate or 'unlimited'} requests/s). "
        "GET /_fake/summary shows what it saw. Ctrl-C stops.",
        flush=True,
    )
    try:
        while True:
            time.sleep(5)
            if not args.quiet:
                print(
                    f"{len(fake.emails)} emails accepted, {len(fake.requests)} requests, "
                    f"{fake.violations} over the limit",
                    flush=True,
                )
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()

"""The fake Resend server speaks what the real SDK sends: batch, idempotency, limits."""

import time

import pytest
import resend


def _email(n: int) -> dict:
    return {"from": "Shop <hello@shop.example>", "to": [f"c{n}@example.com"], "subject": f"Hi {n}", "html": "<p>Hi</p>"}


def test_batch_is_accepted_once_per_idempotency_key(fake_resend):
    first = resend.Batch.send([_email(1), _email(2)], {"idempotency_key": "batch/abc"})
    again = resend.Batch.send([_email(1), _email(2)], {"idempotency_key": "batch/abc"})

    assert [e["id"] for e in first["data"]] == [e["id"] for e in again["data"]]
    assert fake_resend.accepted_recipients() == ["c1@example.com", "c2@example.com"]
    assert [r.idempotency_key for r in fake_resend.requests] == ["batch/abc", "batch/abc"]
    assert fake_resend.requests[1].replayed


def test_same_key_with_another_payload_is_refused(fake_resend):
    resend.Batch.send([_email(1)], {"idempotency_key": "batch/k"})
    with pytest.raises(resend.exceptions.ResendError) as err:
        resend.Batch.send([_email(2)], {"idempotency_key": "batch/k"})
    assert err.value.code == 409
    assert len(fake_resend.emails) == 1


def test_single_send_endpoint(fake_resend):
    sent = resend.Emails.send(_email(7), {"idempotency_key": "transactional/7"})
    assert sent["id"] == fake_resend.emails[0]["id"]


def test_rate_limit_answers_429_with_retry_after(fake_resend):
    fake_resend.rate_limit = 2
    resend.Batch.send([_email(1)])
    resend.Batch.send([_email(2)])
    with pytest.raises(resend.exceptions.RateLimitError) as err:
        resend.Batch.send([_email(3)])
    assert err.value.headers["retry-after"] == "1"
    assert err.value.headers["ratelimit-remaining"] == "0"
    assert fake_resend.violations == 1
    assert len(fake_resend.emails) == 2


def test_injected_faults(fake_resend):
    fake_resend.fail_next(1, status=503)
    fake_resend.reject_next(1)
    with pytest.raises(resend.exceptions.ResendError) as err:
        resend.Batch.send([_email(1)])
    assert err.value.code == 503
    with pytest.raises(resend.exceptions.ResendError) as err:
        resend.Batch.send([_email(1)])
    assert err.value.code == 422
    assert resend.Batch.send([_email(1)])["data"]
    assert [r.status for r in fake_resend.requests] == [503, 422, 200]


def test_invalid_address_rejects_the_whole_batch(fake_resend):
    bad = {**_email(2), "to": ["not-an-address"]}
    with pytest.raises(resend.exceptions.ResendError) as err:
        resend.Batch.send([_email(1), bad])
    assert err.value.code == 422
    assert fake_resend.emails == []


def test_slow_answer_still_accepts(fake_resend):
    fake_resend.slow_next(1, seconds=0.3)
    started = time.monotonic()
    resend.Batch.send([_email(1)], {"idempotency_key": "batch/slow"})
    assert time.monotonic() - started >= 0.3
    assert len(fake_resend.emails) == 1


def test_wrong_key_is_refused(fake_resend):
    resend.api_key = "re_wrong"
    with pytest.raises(resend.exceptions.ResendError) as err:
        resend.Batch.send([_email(1)])
    assert err.value.code == 403

"""Crash safety: a delivery process killed with SIGKILL at several moments, then run
again, gets every email accepted by Resend exactly once and loses none."""

import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from outbox.delivery import deliver_pending
from outbox.models import OutboundEmail
from tests.factories import OutboundEmailFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def start_delivery(fake_resend) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "true",
        "RESEND_API_KEY": fake_resend.api_key,
        "RESEND_API_URL": fake_resend.url,
        "RESEND_REQUESTS_PER_SECOND": "50",
        "RESEND_MAX_IN_FLIGHT": "3",
        "EMAIL_BATCH_SIZE": "10",
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_emails"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_at(fake_resend, proc_box: list, *, request_no: int, phase: str):
    """SIGKILLs the delivery process when the fake server reaches `phase` of a request."""
    seen = collections.Counter()

    def hook(record, at):
        if at != phase:
            return None
        seen[at] += 1
        if seen[at] == request_no and proc_box:
            os.kill(proc_box[0].pid, signal.SIGKILL)
            return "drop" if at == "received" else None
        return None

    fake_resend.on_request = hook


def assert_each_accepted_once(fake_resend):
    fake_resend.on_request = None
    stats = deliver_pending()  # the re-run
    accepted = collections.Counter(fake_resend.accepted_recipients())
    expected = set(OutboundEmail.objects.values_list("to_email", flat=True))
    assert set(accepted) == expected, "an email was lost"
    assert max(accepted.values()) == 1, f"sent twice: {[k for k, v in accepted.items() if v > 1]}"
    assert not OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).exists()
    return stats


@pytest.mark.parametrize(
    "phase,request_no",
    [
        ("received", 1),  # claimed, request never arrived
        ("received", 3),  # some batches done, more claimed in flight
        ("handled", 2),  # accepted by Resend, answer never read
        ("answered", 2),  # answered, killed before or while marking
    ],
)
def test_sigkill_during_delivery_then_rerun_sends_each_email_once(fake_resend, phase, request_no):
    OutboundEmailFactory.create_batch(60)
    box: list = []
    kill_at(fake_resend, box, request_no=request_no, phase=phase)
    proc = start_delivery(fake_resend)
    box.append(proc)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    assert OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT).exists()

    assert_each_accepted_once(fake_resend)


def test_sigkill_at_random_moments_repeatedly(fake_resend):
    OutboundEmailFactory.create_batch(200)
    rng = random.Random(20261129)
    for _ in range(4):
        proc = start_delivery(fake_resend)
        time.sleep(rng.uniform(0.8, 2.0))  # Django starts in ~1s: kills land at varied points
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    assert_each_accepted_once(fake_resend)

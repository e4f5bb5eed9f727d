"""verify_ledger: every account against its ledger, non-zero exit on a mismatch."""

import io
import json

import pytest
from django.core.management import call_command

from loyalty.models import LoyaltyAccount


def run():
    out = io.StringIO()
    try:
        call_command("verify_ledger", stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    lines = out.getvalue().strip().splitlines()
    return code, lines[:-1], json.loads(lines[-1])


def test_a_consistent_ledger_passes(customer, other_customer, complete, grant):
    complete(customer, "1500.00")
    complete(customer, "80.00")
    grant(other_customer, 20)
    code, problems, stats = run()
    assert (code, problems) == (0, [])
    assert stats == {"job": "verify_ledger", "accounts": 2, "mismatches": 0}


@pytest.mark.parametrize(
    ("change", "reported"),
    [({"points": 1}, "points 1 != ledger 80"), ({"lifetime_points": 5}, "lifetime 5 != ledger 80"), ({"tier": "gold"}, "tier gold != bronze")],
)
def test_a_mismatch_is_reported_and_fails(customer, other_customer, complete, change, reported):
    complete(customer, "80.00")
    complete(other_customer, "10.00")
    LoyaltyAccount.objects.filter(pk=customer.pk).update(**change)  # tampering behind the ledger's back
    code, problems, stats = run()
    assert code == 1
    assert problems == [f"customer {customer.pk}: {reported}"]
    assert stats["mismatches"] == 1 and stats["accounts"] == 2

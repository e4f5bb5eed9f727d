"""Checks that every loyalty account equals what its ledger sums to: the balance,
lifetime points (earn + tier bonus + reversal lines) and the tier they give.

Prints one line per mismatch, then a JSON summary as the last stdout line; exits
non-zero when any account disagrees with its ledger."""

import json

from django.core.management.base import BaseCommand
from django.db.models import BigIntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from loyalty.models import LoyaltyAccount, PointsEntry
from loyalty.tiers import tier_for


def _ledger_sum(**filters):
    entries = (
        PointsEntry.objects.filter(account=OuterRef("pk"), **filters)
        .order_by()
        .values("account")
        .annotate(total=Sum("points"))
        .values("total")
    )
    return Coalesce(Subquery(entries, output_field=BigIntegerField()), Value(0))


class Command(BaseCommand):
    help = "Checks every loyalty account against its ledger; exits 1 on any mismatch."

    def handle(self, *args, **options):
        accounts = (
            LoyaltyAccount.objects.annotate(
                ledger_points=_ledger_sum(),
                ledger_lifetime=_ledger_sum(type__in=PointsEntry.LIFETIME_TYPES),
            )
            .order_by("pk")
            .values_list("pk", "points", "lifetime_points", "tier", "ledger_points", "ledger_lifetime")
        )
        checked = mismatches = 0
        for pk, points, lifetime, tier, ledger_points, ledger_lifetime in accounts.iterator(chunk_size=2000):
            checked += 1
            problems = []
            if points != ledger_points:
                problems.append(f"points {points} != ledger {ledger_points}")
            if lifetime != ledger_lifetime:
                problems.append(f"lifetime {lifetime} != ledger {ledger_lifetime}")
            if tier != tier_for(ledger_lifetime).key:
                problems.append(f"tier {tier} != {tier_for(ledger_lifetime).key}")
            if problems:
                mismatches += 1
                self.stdout.write(f"customer {pk}: " + "; ".join(problems))
        self.stdout.write(json.dumps({"job": "verify_ledger", "accounts": checked, "mismatches": mismatches}))
        if mismatches:
            raise SystemExit(1)

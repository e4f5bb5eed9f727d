"""Who the seasonal and win-back jobs hold out: a stable share, the same on re-runs and
catch-up runs, sent nothing, recorded, not counted against the cap."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.db import transaction

from campaigns.models import CampaignSend
from experiments.assign import bucket
from experiments.models import Assignment, HoldoutEnd, Send
from outbox.models import OutboundEmail
from reminders.models import WinbackSend
from retention.models import Notification, PromoCode

from .conftest import MONDAY, make_customers, seasonal, winback

NEXT_MONDAY = MONDAY + dt.timedelta(days=7)


class Rollback(Exception):
    pass


def sides(**filters) -> dict[int, bool]:
    """{customer id: held out?} as recorded."""
    return dict(Assignment.objects.filter(**filters).values_list("customer_id", "held_out"))


def in_savepoint(steps) -> dict[int, bool]:
    """Runs `steps`, reads the sides, and undoes it all."""
    try:
        with transaction.atomic():
            steps()
            found = sides()
            raise Rollback
    except Rollback:
        return found


def test_the_hash_is_the_same_in_another_process():
    """BLAKE2b of the key, not Python's hash(): another process (another hash seed) agrees."""
    ids = range(1, 201)
    here = [bucket(i, send="seasonal", campaign_id="c0ffee", season="2026") for i in ids]
    code = (
        "import django; django.setup(); from experiments.assign import bucket; "
        "print([bucket(i, send='seasonal', campaign_id='c0ffee', season='2026') for i in range(1, 201)])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    there = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert there.stdout.strip() == str(here)
    assert len(set(here)) > 50  # spread over the buckets, not constant


# Binomial tolerance: with n customers and share p, the number held out has standard
# deviation sqrt(n p (1 - p)); we allow 4 of them (a false alarm about 1 run in 16,000).
def four_sigma(n: int, p: float) -> float:
    return 4 * (n * p * (1 - p)) ** 0.5


def test_share_held_out_is_close_to_the_setting_and_they_get_nothing(holdouts_on, winter, provider, lawn):
    ids = make_customers(10_000, provider=provider, service_type=lawn, booked_days_ago=45)
    stats = seasonal()
    assert stats["eligible"] == 10_000
    assert abs(stats["heldOut"] - 1_000) <= four_sigma(10_000, 0.10)  # 1,000 +/- 120
    assert stats["sent"] + stats["heldOut"] == 10_000

    recorded = sides(send=Send.SEASONAL, campaign=winter, season="2026", as_of=MONDAY)
    held = {pk for pk, out in recorded.items() if out}
    assert len(recorded) == 10_000 and len(held) == stats["heldOut"]
    # Held out: no code, no send, no notification, no email. Mailed: all four.
    for model in (PromoCode, CampaignSend, Notification, OutboundEmail):
        customers = set(model.objects.values_list("customer_id", flat=True))
        assert not customers & held, model
        assert customers == set(ids) - held, model


def test_other_shares_hold_too(settings, winter, provider, lawn):
    settings.HOLDOUT_PERCENT = 10
    settings.SEASONAL_HOLDOUT_PERCENT = 30
    make_customers(2_000, provider=provider, service_type=lawn, booked_days_ago=45)
    stats = seasonal()
    assert abs(stats["heldOut"] - 600) <= four_sigma(2_000, 0.30)


def test_reruns_and_later_weeks_hold_out_the_same_customers(holdouts_on, winter, provider, lawn):
    make_customers(300, provider=provider, service_type=lawn, booked_days_ago=45)
    first = seasonal()
    before = sides()
    assert first["heldOut"] > 0

    again = seasonal()
    assert (again["sent"], again["heldOut"], again["eligible"]) == (0, 0, 0)
    assert again["skippedByReason"]["alreadyHeldOut"] == first["heldOut"]
    assert again["skipped"] == 300  # the mailed hold their code now (activePromoCode)

    week_later = seasonal(NEXT_MONDAY)  # held out stays held out, not counted eligible again
    assert (week_later["eligible"], week_later["heldOut"]) == (0, 0)
    assert sides() == before


def test_a_catch_up_run_puts_everyone_on_the_same_side(holdouts_on, winter, provider, lawn):
    make_customers(300, provider=provider, service_type=lawn, booked_days_ago=45)
    on_time = in_savepoint(lambda: seasonal(MONDAY))
    late = in_savepoint(lambda: (seasonal(NEXT_MONDAY), seasonal(MONDAY)))  # the missed Monday after
    assert late == on_time and any(on_time.values())


def test_winback_holds_out_by_month_and_the_held_out_wait_out_the_cooldown(holdouts_on, provider, lawn):
    make_customers(300, provider=provider, service_type=lawn, booked_days_ago=120)
    on_time = in_savepoint(lambda: winback(MONDAY))
    catch_up = in_savepoint(lambda: (winback(MONDAY + dt.timedelta(days=1)), winback(MONDAY)))
    assert catch_up == on_time

    first = winback(MONDAY)
    held = {pk for pk, out in sides(send=Send.WINBACK, season="2027-01").items() if out}
    assert first["heldOut"] == len(held) > 0
    assert first["sent"] + first["heldOut"] == first["eligible"] == 300
    assert not held & set(WinbackSend.objects.values_list("customer_id", flat=True))
    assert not held & set(PromoCode.objects.values_list("customer_id", flat=True))

    next_day = winback(MONDAY + dt.timedelta(days=1))
    assert (next_day["eligible"], next_day["heldOut"]) == (0, 0)
    assert next_day["skippedByReason"]["alreadyHeldOut"] == len(held)


def test_held_out_customers_are_not_counted_against_the_marketing_cap(holdouts_on, winter, provider, lawn):
    """Held out of the seasonal email, a lapsed customer still gets the next day's
    win-back (unless held out of that too); a mailed one is capped."""
    ids = make_customers(300, provider=provider, service_type=lawn, booked_days_ago=120)
    seasonal(MONDAY)
    held = {pk for pk, out in sides(send=Send.SEASONAL).items() if out}
    stats = winback(MONDAY + dt.timedelta(days=1))
    won_back = set(WinbackSend.objects.values_list("customer_id", flat=True))
    held_of_winback = {pk for pk, out in sides(send=Send.WINBACK).items() if out}
    assert won_back == held - held_of_winback and won_back
    assert stats["skippedByReason"]["marketingCap"] == len(ids) - len(held)


def test_holdout_percent_zero_changes_nothing_else(settings, winter, provider, lawn):
    ids = make_customers(300, provider=provider, service_type=lawn, booked_days_ago=45)
    settings.HOLDOUT_PERCENT = 10
    with_holdout = in_savepoint(seasonal)
    settings.HOLDOUT_PERCENT = 0
    stats = seasonal()
    assert stats["heldOut"] == 0 and stats["sent"] == stats["eligible"] == 300
    assert "alreadyHeldOut" not in stats["skippedByReason"]
    assert not Assignment.objects.exists()
    # Every customer the holdout run mailed is mailed, and those it held out too.
    assert set(CampaignSend.objects.values_list("customer_id", flat=True)) == set(ids) == set(with_holdout)
    again = seasonal()
    assert again["sent"] == 0 and again["skipped"] == 300 and "alreadyHeldOut" not in again["skippedByReason"]


def test_each_send_has_its_own_setting(settings, winter, provider, lawn):
    settings.HOLDOUT_PERCENT = 20
    settings.SEASONAL_HOLDOUT_PERCENT = 0
    make_customers(200, provider=provider, service_type=lawn, booked_days_ago=120)
    assert seasonal()["heldOut"] == 0
    assert winback(MONDAY + dt.timedelta(days=8))["heldOut"] > 0


def test_a_dry_run_counts_the_held_out_and_writes_nothing(holdouts_on, winter, provider, lawn):
    make_customers(300, provider=provider, service_type=lawn, booked_days_ago=120)
    dry = seasonal(dry_run=True)
    assert dry["heldOut"] > 0 and not Assignment.objects.exists()
    assert seasonal()["heldOut"] == dry["heldOut"]
    dry_winback = winback(MONDAY + dt.timedelta(days=8), dry_run=True)
    assert dry_winback["heldOut"] > 0 and not Assignment.objects.filter(send=Send.WINBACK).exists()


def test_staff_end_a_campaigns_holdout_and_everyone_eligible_is_mailed(
    holdouts_on, winter, provider, lawn, admin_client, admin_user
):
    make_customers(300, provider=provider, service_type=lawn, booked_days_ago=45)
    first = seasonal()
    assert first["heldOut"] > 0
    response = admin_client.post(
        "/admin/experiments/holdoutend/add/",
        {"send": Send.SEASONAL, "campaign": winter.pk, "reason": "Enough evidence"},
    )
    assert response.status_code == 302
    ended = HoldoutEnd.objects.get()
    assert (ended.campaign, ended.ended_by, ended.reason) == (winter, admin_user, "Enough evidence")
    assert ended.ended_at is not None

    recorded = Assignment.objects.count()
    later = seasonal(NEXT_MONDAY)
    assert later["heldOut"] == 0
    assert later["sent"] == first["heldOut"]  # the held out are released and mailed
    assert Assignment.objects.count() == recorded  # no new comparison rows after the end
    assert CampaignSend.objects.count() == 300

    # Ending it twice is refused with a message; the first record stays.
    again = admin_client.post(
        "/admin/experiments/holdoutend/add/", {"send": Send.SEASONAL, "campaign": winter.pk}
    )
    assert again.status_code == 200 and b"already been ended" in again.content
    assert HoldoutEnd.objects.get() == ended


def test_a_seasonal_end_needs_its_campaign(admin_client, db):
    response = admin_client.post("/admin/experiments/holdoutend/add/", {"send": Send.SEASONAL})
    assert response.status_code == 200 and b"Choose the campaign" in response.content
    assert not HoldoutEnd.objects.exists()

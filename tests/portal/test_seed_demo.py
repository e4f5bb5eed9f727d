"""seed_demo makes the data PRODUCT.md lists, and running it again changes nothing; like
every job command it takes --date and --dry-run and ends with a JSON line of stats."""

import datetime as dt
import io
import json

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from campaigns.models import CampaignSend
from retention.models import Customer, Job, Provider, ServiceType, User


def counts():
    return {model.__name__: model.objects.count() for model in (User, ServiceType, Job, Provider)}


def test_seed_demo_is_idempotent_and_complete(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert counts() == first
    for email in ("demo@example.com", "provider@example.com", "admin@example.com"):
        # A request, as every login has one (login throttling needs its address).
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=email, password="demo-password") is not None
    assert User.objects.get(email="admin@example.com").is_superuser
    assert set(ServiceType.objects.values_list("name", "frequency_days")) == {
        ("Lawn Care", 14), ("Pool Service", 7), ("Pest Control", 30), ("HVAC", 180),
    }
    provider = Provider.objects.get(user__email="provider@example.com")
    assert provider.jobs.filter(status="scheduled").count() >= 2
    demo_jobs = Job.objects.filter(customer__user__email="demo@example.com")
    assert demo_jobs.filter(status="completed").exists()


def seed(*args) -> dict:
    """Runs seed_demo as cron or a person would; its last stdout line is the stats."""
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().splitlines()[-1])


def test_seed_demo_is_a_job_command_whose_last_line_is_its_stats(db):
    first = seed("--date", "2026-03-02")
    assert {k: first[k] for k in ("job", "date", "dryRun", "eligible", "sent", "skipped", "failed")} == {
        "job": "seed_demo", "date": "2026-03-02", "dryRun": False, "eligible": 0, "sent": 0, "skipped": 0,
        "failed": 0,
    }
    assert first["created"] > 50
    assert seed("--date", "2026-03-02")["created"] == 0  # already there: nothing added


def test_a_dry_run_seeds_nothing_and_says_what_it_would_add(db):
    stats = seed("--dry-run")
    assert stats["dryRun"] is True and stats["created"] > 50
    assert counts() == {"User": 0, "ServiceType": 0, "Job": 0, "Provider": 0}


def test_seeding_as_of_a_day_dates_the_history_from_it(db):
    stats = seed("--date", "2026-06-01")
    assert stats["date"] == "2026-06-01"
    demo = Customer.objects.get(user__email="demo@example.com")
    # The demo's lawn care was last done 12 days before, so it is due in two days.
    lawn = demo.jobs.filter(service_type__slug="lawn-care", status="completed").latest("completed_at")
    assert lawn.scheduled_for == dt.date(2026, 5, 20) and lawn.next_due_date == dt.date(2026, 6, 3)
    # The running campaign's code is June's (summer), not today's season's.
    (send,) = CampaignSend.objects.filter(customer=demo)
    assert send.campaign.season == "summer"

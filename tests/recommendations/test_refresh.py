"""refresh_recommendations on a hand-built set of jobs gives the known support,
confidence and lift; it replaces the table, honours --date and --dry-run."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from recommendations.models import ServicePair
from tests.factories import CustomerFactory, JobFactory, ServiceTypeFactory

from .conftest import TODAY


@pytest.fixture
def abc(db, provider):
    """Five customers with completed jobs: {A, B}, {A, B} (A twice), {A, C}, {B}, {C}.
    Not counted: a scheduled A, a cancelled B, and an A and C completed after TODAY."""
    a, b, c = (ServiceTypeFactory(name=n, slug=n.lower()) for n in ("A", "B", "C"))
    for services in ([a, b], [a, a, b], [a, c], [b], [c]):
        customer = CustomerFactory()
        for days_ago, service in enumerate(services, start=2):
            JobFactory(
                customer=customer,
                provider=provider,
                service_type=service,
                completed_days_ago=days_ago,
            )
    late = CustomerFactory()
    JobFactory(customer=late, provider=provider, service_type=a)  # scheduled
    JobFactory(customer=late, provider=provider, service_type=b, status="cancelled")
    later = CustomerFactory()
    for service in (a, c):
        JobFactory(customer=later, provider=provider, service_type=service, completed_days_ago=-1)
    return a, b, c


def refresh(*args) -> dict:
    out = io.StringIO()
    call_command("refresh_recommendations", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def pairs() -> dict:
    return {
        (p.service_type.name, p.recommended.name): (
            p.customers,
            round(p.support, 4),
            round(p.confidence, 4),
            round(p.lift, 4),
        )
        for p in ServicePair.objects.select_related("service_type", "recommended")
    }


def test_known_support_confidence_and_lift(abc, settings):
    settings.RECOMMENDATION_MIN_SUPPORT = 0
    stats = refresh("--date", TODAY.isoformat())
    # N = 5; A: 3 customers, B: 3, C: 2; A and B together: 2, A and C: 1, B and C: none.
    assert pairs() == {
        ("A", "B"): (2, 0.4, round(2 / 3, 4), round(10 / 9, 4)),  # lift 2*5 / (3*3)
        ("B", "A"): (2, 0.4, round(2 / 3, 4), round(10 / 9, 4)),
        ("A", "C"): (1, 0.2, round(1 / 3, 4), round(5 / 6, 4)),  # lift 1*5 / (3*2)
        ("C", "A"): (1, 0.2, 0.5, round(5 / 6, 4)),
    }
    assert stats | {"date": None} == {
        "job": "refresh_recommendations",
        "date": None,
        "dryRun": False,
        "eligible": 4,
        "sent": 4,
        "skipped": 0,
        "failed": 0,
        "customers": 5,
    }


def test_pairs_under_the_minimum_support_are_dropped_and_old_rows_replaced(abc, settings):
    _a, b, c = abc
    ServicePair.objects.create(
        service_type=b, recommended=c, customers=9, support=0.9, confidence=0.9, lift=9, as_of=TODAY
    )
    settings.RECOMMENDATION_MIN_SUPPORT = 0.3
    stats = refresh("--date", TODAY.isoformat())
    assert set(pairs()) == {("A", "B"), ("B", "A")}
    assert (stats["eligible"], stats["sent"], stats["skipped"]) == (4, 2, 2)
    assert set(ServicePair.objects.values_list("as_of", flat=True)) == {TODAY}


def test_a_later_date_counts_the_later_completions(abc, settings):
    settings.RECOMMENDATION_MIN_SUPPORT = 0
    refresh("--date", (TODAY + dt.timedelta(days=1)).isoformat())
    # Six customers now; A and C together: 2.
    assert pairs()[("A", "C")] == (2, round(2 / 6, 4), 0.5, round(2 * 6 / (4 * 3), 4))


def test_dry_run_changes_nothing(abc, settings):
    settings.RECOMMENDATION_MIN_SUPPORT = 0
    stats = refresh("--dry-run")
    assert stats["dryRun"] is True and stats["sent"] == 4
    assert not ServicePair.objects.exists()


def test_the_cron_endpoint_runs_it(abc, client, settings):
    settings.CRON_SECRET = "s3cret"
    settings.RECOMMENDATION_MIN_SUPPORT = 0
    assert client.get("/api/cron/refresh-recommendations").status_code == 401
    response = client.post("/api/cron/refresh-recommendations", HTTP_AUTHORIZATION="Bearer s3cret")
    assert response.status_code == 200
    assert response.json()["job"] == "refresh_recommendations"
    assert ServicePair.objects.count() == 4


def test_it_is_scheduled_nightly(settings):
    assert ("refresh_recommendations", "30 4 * * *") in settings.SCHEDULED_JOBS
    assert any(job[2] == ["refresh_recommendations"] for job in settings.CRONJOBS)

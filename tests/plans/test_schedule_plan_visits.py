"""schedule_plan_visits books each active subscription's next visit PLAN_BOOK_AHEAD_DAYS
ahead, once per subscription and date however often or concurrently it runs."""

import datetime as dt
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from outbox.models import OutboundEmail
from plans.models import PlanVisit, Subscription
from plans.visits import schedule_plan_visits
from retention.models import Job
from tests.factories import CustomerFactory, JobFactory

from .conftest import TODAY, job_context


def subscription_with_visit_on(customer, plan, day: dt.date, provider) -> Subscription:
    """An active subscription whose last visit (booked) is on `day`."""
    subscription = Subscription.objects.create(customer=customer, plan=plan, start_date=day)
    job = JobFactory(customer=customer, provider=provider, service_type=plan.service_type, scheduled_for=day)
    PlanVisit.objects.create(subscription=subscription, job=job, scheduled_for=day)
    return subscription


def booked_dates(subscription) -> list[dt.date]:
    return sorted(subscription.visits.exclude(status="called_off").values_list("scheduled_for", flat=True))


@pytest.mark.django_db
class TestBoundary:
    def test_a_visit_14_days_ahead_is_booked(self, customer, provider, pool_plan):
        # Last visit 7 days ahead: the next is 14 days ahead, exactly the horizon.
        subscription = subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
        ctx = job_context()
        schedule_plan_visits(ctx)
        assert booked_dates(subscription)[-1] == TODAY + dt.timedelta(days=14)
        assert ctx.stats["booked"] == 1 and ctx.stats["sent"] == 1 and ctx.stats["eligible"] == 1
        visit = subscription.visits.get(scheduled_for=TODAY + dt.timedelta(days=14))
        assert visit.job.amount_paid == pool_plan.service_type.base_price * 90 / 100
        email = OutboundEmail.objects.get(idempotency_key=f"plan_visit/{visit.pk}")
        assert email.kind == "transactional" and email.to_email == customer.email
        assert "Hi Casey," in email.text_body and "Pro Lawn and Pool" in email.text_body

    def test_a_visit_15_days_ahead_is_not_booked_yet(self, customer, provider, pool_plan):
        subscription = subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=8), provider)
        ctx = job_context()
        schedule_plan_visits(ctx)
        assert booked_dates(subscription) == [TODAY + dt.timedelta(days=8)]
        assert ctx.stats["booked"] == 0 and ctx.stats["eligible"] == 0 and ctx.stats["subscriptions"] == 0
        # ... and the next day's run books it.
        schedule_plan_visits(job_context(TODAY + dt.timedelta(days=1)))
        assert booked_dates(subscription)[-1] == TODAY + dt.timedelta(days=15)


@pytest.mark.django_db
def test_paused_and_cancelled_subscriptions_get_nothing(customer, other_customer, provider, pool_plan, pest_plan):
    paused = subscription_with_visit_on(customer, pool_plan, TODAY, provider)
    paused.status = "paused"
    paused.save()
    cancelled = subscription_with_visit_on(other_customer, pool_plan, TODAY, provider)
    Subscription.objects.filter(pk=cancelled.pk).update(status="cancelled", cancelled_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    ctx = job_context()
    schedule_plan_visits(ctx)
    assert ctx.stats["booked"] == 0 and PlanVisit.objects.count() == 2


@pytest.mark.django_db
def test_a_missed_week_books_every_visit_up_to_the_horizon(customer, provider, pool_plan):
    subscription = subscription_with_visit_on(customer, pool_plan, TODAY - dt.timedelta(days=7), provider)
    schedule_plan_visits(job_context())
    # The visit of today was missed by the job: today, +7 and +14 are booked.
    assert booked_dates(subscription) == [TODAY + dt.timedelta(days=d) for d in (-7, 0, 7, 14)]


@pytest.mark.django_db
def test_days_the_job_did_not_run_move_the_next_visit_on_by_whole_intervals(customer, provider, pool_plan):
    subscription = subscription_with_visit_on(customer, pool_plan, TODAY - dt.timedelta(days=20), provider)
    schedule_plan_visits(job_context())
    # Plan dates -13 and -6 are gone: the next are +1 and +8 (+15 is past the horizon).
    assert booked_dates(subscription) == [TODAY + dt.timedelta(days=d) for d in (-20, 1, 8)]


@pytest.mark.django_db
def test_a_subscription_with_no_visit_yet_is_booked_from_its_start_date(customer, other_customer, provider, pool_plan):
    soon = Subscription.objects.create(customer=customer, plan=pool_plan, start_date=TODAY + dt.timedelta(days=10))
    later = Subscription.objects.create(customer=other_customer, plan=pool_plan, start_date=TODAY + dt.timedelta(days=15))
    ctx = job_context()
    schedule_plan_visits(ctx)
    assert booked_dates(soon) == [TODAY + dt.timedelta(days=10)] and booked_dates(later) == []
    assert ctx.stats["subscriptions"] == 1


@pytest.mark.django_db
def test_a_called_off_visit_is_not_the_last_one_kept(customer, provider, pool_plan):
    subscription = subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
    PlanVisit.objects.create(subscription=subscription, scheduled_for=TODAY + dt.timedelta(days=14), status="called_off")
    schedule_plan_visits(job_context())
    # The called-off date is booked again; the plan goes on from the visit kept before it.
    assert booked_dates(subscription) == [TODAY + dt.timedelta(days=7), TODAY + dt.timedelta(days=14)]


@pytest.mark.django_db
def test_twice_in_a_day_books_once(customer, provider, pool_plan):
    subscription = subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
    first, second = job_context(), job_context()
    schedule_plan_visits(first)
    schedule_plan_visits(second)
    assert (first.stats["booked"], second.stats["booked"]) == (1, 0)
    assert subscription.visits.count() == 2 and Job.objects.count() == 2
    assert OutboundEmail.objects.filter(template="plan_visit_booked").count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_visit_for_a_date(customer, provider, pool_plan):
    from django.db import IntegrityError, transaction

    subscription = subscription_with_visit_on(customer, pool_plan, TODAY, provider)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanVisit.objects.create(subscription=subscription, scheduled_for=TODAY, status="skipped")
    # A date released by a pause can be booked again.
    PlanVisit.objects.filter(subscription=subscription).update(status="called_off")
    PlanVisit.objects.create(subscription=subscription, scheduled_for=TODAY, status="skipped")


@pytest.mark.django_db
def test_no_provider_free_that_day_books_the_next_day_with_one_and_says_so(customer, provider, pool_plan, settings):
    settings.PROVIDER_JOBS_PER_DAY = 1
    subscription = subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
    full = TODAY + dt.timedelta(days=14)
    JobFactory(provider=provider, service_type=pool_plan.service_type, scheduled_for=full)
    ctx = job_context()
    schedule_plan_visits(ctx)
    visit = subscription.visits.get(scheduled_for=full)
    assert visit.job.scheduled_for == full + dt.timedelta(days=1)
    assert ctx.stats["movedToLaterDay"] == 1
    assert ctx.stats["moved"] == [
        {"subscription": str(subscription.pk), "planDate": full.isoformat(), "bookedFor": (full + dt.timedelta(days=1)).isoformat()}
    ]
    # The cadence follows the plan's date, not the day it moved to.
    schedule_plan_visits(job_context(TODAY + dt.timedelta(days=7)))
    assert booked_dates(subscription)[-1] == full + dt.timedelta(days=7)


@pytest.mark.django_db
def test_a_run_counts_the_visits_it_books_against_each_providers_day(customer, other_customer, provider, pool_plan, settings):
    settings.PROVIDER_JOBS_PER_DAY = 2
    for someone in (customer, other_customer, CustomerFactory()):
        subscription_with_visit_on(someone, pool_plan, TODAY + dt.timedelta(days=7), provider)
    schedule_plan_visits(job_context())
    plan_date = TODAY + dt.timedelta(days=14)
    days = sorted(PlanVisit.objects.filter(scheduled_for=plan_date).values_list("job__scheduled_for", flat=True))
    assert days == [plan_date, plan_date, plan_date + dt.timedelta(days=1)]


@pytest.mark.django_db
@pytest.mark.parametrize("days_full", [2, 3])
def test_a_provider_is_looked_for_up_to_plan_provider_search_days_after_the_plan_date(
    customer, provider, pool_plan, settings, days_full
):
    settings.PROVIDER_JOBS_PER_DAY = 1
    settings.PLAN_PROVIDER_SEARCH_DAYS = 2
    subscription = subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
    plan_date = TODAY + dt.timedelta(days=14)
    for offset in range(days_full):
        JobFactory(provider=provider, service_type=pool_plan.service_type, scheduled_for=plan_date + dt.timedelta(days=offset))
    ctx = job_context()
    schedule_plan_visits(ctx)
    visit = subscription.visits.filter(scheduled_for=plan_date).select_related("job").first()
    if days_full <= 2:  # free on the plan date + 2, the last day looked at
        assert visit.job.scheduled_for == plan_date + dt.timedelta(days=2)
    else:
        assert visit is None and ctx.stats["skippedByReason"]["noProviderFree"] == 1


@pytest.mark.django_db
def test_dry_run_books_nothing_but_counts(customer, provider, pool_plan):
    subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
    ctx = job_context(dry_run=True)
    schedule_plan_visits(ctx)
    assert ctx.stats["eligible"] == 1 and ctx.stats["booked"] == 0 and PlanVisit.objects.count() == 1


@pytest.mark.django_db
def test_the_command_prints_its_stats_and_delivers(customer, provider, pool_plan, fake_resend):
    subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
    out = io.StringIO()
    call_command("schedule_plan_visits", "--date", TODAY.isoformat(), stdout=out, stderr=io.StringIO())
    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    assert stats["job"] == "schedule_plan_visits" and stats["date"] == TODAY.isoformat()
    assert (stats["eligible"], stats["booked"], stats["sent"], stats["skipped"], stats["failed"]) == (1, 1, 1, 0, 0)
    assert [e["subject"] for e in fake_resend.emails] == [
        f"Your Weekly pool care visit is booked for {TODAY + dt.timedelta(days=14):%A, %B} {(TODAY + dt.timedelta(days=14)).day}"
    ]


@pytest.mark.django_db(transaction=True)
def test_two_processes_at_once_book_once(provider, pool_plan):
    """Two runs on their own connections at the same moment, without the job's singleton
    lock (which would make the second exit at once): the (subscription, date)
    constraint still lets each visit be booked once."""
    customers = [CustomerFactory() for _ in range(20)]
    subscriptions = [
        subscription_with_visit_on(c, pool_plan, TODAY + dt.timedelta(days=7), provider) for c in customers
    ]
    start, results = threading.Barrier(2), []

    def run():
        try:
            ctx = job_context()
            start.wait()
            schedule_plan_visits(ctx)
            results.append(ctx.stats["booked"])
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 20
    for subscription in subscriptions:
        assert booked_dates(subscription) == [TODAY + dt.timedelta(days=7), TODAY + dt.timedelta(days=14)]
    assert Job.objects.count() == 40
    assert OutboundEmail.objects.filter(template="plan_visit_booked").count() == 20


@pytest.mark.django_db(transaction=True)
def test_a_second_command_while_one_runs_exits_without_booking(customer, provider, pool_plan):
    from retention.scheduling import singleton_lock

    subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
    held = threading.Event()
    release = threading.Event()

    def hold_the_lock():
        try:
            with singleton_lock("schedule_plan_visits"):
                held.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    held.wait(10)
    out = io.StringIO()
    try:
        call_command("schedule_plan_visits", stdout=out, stderr=io.StringIO())
    finally:
        release.set()
        holder.join()
    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    assert stats.get("locked") is True and PlanVisit.objects.count() == 1


@pytest.mark.django_db
def test_the_cron_endpoint_runs_the_job(client, settings, customer, provider, pool_plan):
    settings.CRON_SECRET = "s3cret"
    subscription_with_visit_on(customer, pool_plan, TODAY + dt.timedelta(days=7), provider)
    assert client.post("/api/cron/schedule-plan-visits").status_code == 401
    response = client.post("/api/cron/schedule-plan-visits", headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200
    assert (response.json()["job"], response.json()["eligible"], response.json()["sent"]) == ("schedule_plan_visits", 1, 1)
    assert PlanVisit.objects.count() == 2

"""Idempotent demo data: the accounts, service types and history PRODUCT.md lists.

A job command like the others (retention.scheduling): `--date` seeds as of that day
(the jobs done, due and booked, the referrals and the running campaign's code count
from it), `--dry-run` rolls everything back, a second copy started while one runs exits
at once, and the last line of stdout is the JSON stats, where `created` is the number
of rows in the database after the run less before (0 when the data was already there;
the outbox and the metrics journal count too). Demo rows are found again by fixed ids,
so a history seeded `--date D` stays dated from D on later runs (reset: a fresh
database). The accounts to log in with go to stderr with the progress."""

from django.apps import apps
from django.db import transaction

from bundles.demo import seed_bundles
from campaigns import demo as campaigns_demo
from loyalty.demo import seed_loyalty
from plans.demo import seed_plans
from recommendations.demo import seed_recommendations
from referrals.demo import seed_referrals
from reminders import demo as reminders_demo
from retention import demo
from retention.scheduling import JobContext, ScheduledJobCommand

ACCOUNTS = [("demo@example.com", "customer"), ("provider@example.com", "provider"), ("admin@example.com", "staff")]


def row_count() -> int:
    """Rows in every table the models own, many-to-many links included (the demo is
    small: one count each)."""
    return sum(
        model._base_manager.count() for model in apps.get_models(include_auto_created=True) if not model._meta.proxy
    )


class Command(ScheduledJobCommand):
    help = "Creates the demo accounts and data; running it again changes nothing."
    job_name = "seed_demo"

    def work(self, ctx: JobContext) -> None:
        before = row_count()
        today = ctx.as_of
        with transaction.atomic():  # all of it or none of it
            types = demo.seed_service_types()
            people = demo.seed_people(types)
            demo.seed_history(types, people, today=today)
            seed_loyalty(types, people)
            seed_referrals(types, people, today=today)
            reminders_demo.seed_reminders(types, people, today=today)
            campaigns_demo.seed_campaigns(types)
            campaigns_demo.seed_demo_offer(people["customer"], today=today)
            seed_plans(types, people, today=today)
            seed_bundles(types)
            seed_recommendations(types, people, today=today)
        ctx.stats["created"] = row_count() - before
        ctx.progress(f"Demo data ready. Log in with password {demo.DEMO_PASSWORD!r} as:")
        for email, role in ACCOUNTS:
            ctx.progress(f"  {email:<24} {role}")

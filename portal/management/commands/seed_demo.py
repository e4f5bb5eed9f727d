"""Idempotent demo data: the accounts, service types and history PRODUCT.md lists."""

from django.core.management.base import BaseCommand
from django.db import transaction

from bundles.demo import seed_bundles
from campaigns import demo as campaigns_demo
from loyalty.demo import seed_loyalty
from referrals.demo import seed_referrals
from plans.demo import seed_plans
from recommendations.demo import seed_recommendations
from reminders import demo as reminders_demo
from retention import demo


class Command(BaseCommand):
    help = "Creates the demo accounts and data; running it again changes nothing."

    def handle(self, *args, **options):
        with transaction.atomic():
            types = demo.seed_service_types()
            people = demo.seed_people(types)
            demo.seed_history(types, people)
            seed_loyalty(types, people)
            seed_referrals(types, people)
            reminders_demo.seed_reminders(types, people)
            campaigns_demo.seed_campaigns(types)
            campaigns_demo.seed_demo_offer(people["customer"])
            seed_plans(types, people)
            seed_bundles(types)
            seed_recommendations(types, people)
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Log in with password 'demo-password' as:")
        )
        for email, role in [
            ("demo@example.com", "customer"),
            ("provider@example.com", "provider"),
            ("admin@example.com", "staff"),
        ]:
            self.stdout.write(f"  {email:<24} {role}")

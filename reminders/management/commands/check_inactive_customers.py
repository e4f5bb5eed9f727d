"""Daily at 09:00 UTC: send win-back codes to customers gone quiet (see reminders.winback)."""

from outbox.delivery import deliver_queued
from reminders.winback import TEMPLATE, check_inactive_customers
from retention.scheduling import JobContext, ScheduledJobCommand


class Command(ScheduledJobCommand):
    help = "Sends a win-back promo code to customers whose last booking is 90+ days old, then delivers."
    job_name = "check_inactive_customers"

    def work(self, ctx: JobContext) -> None:
        check_inactive_customers(ctx)
        if not ctx.dry_run:
            deliver_queued(ctx, template=TEMPLATE)

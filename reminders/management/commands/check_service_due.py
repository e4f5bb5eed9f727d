"""Daily at 11:00 UTC: remind customers whose services are due (see reminders.service_due)."""

from outbox.delivery import deliver_queued
from reminders.service_due import TEMPLATE, check_service_due
from retention.scheduling import JobContext, ScheduledJobCommand


class Command(ScheduledJobCommand):
    help = "Queues one reminder email per customer for services due from 30 days ago to 3 days ahead, then delivers."
    job_name = "check_service_due"

    def work(self, ctx: JobContext) -> None:
        check_service_due(ctx)
        if not ctx.dry_run:
            deliver_queued(ctx, template=TEMPLATE)

"""Daily at 06:00 UTC: book maintenance plan visits PLAN_BOOK_AHEAD_DAYS ahead (see plans.visits)."""

from outbox.delivery import deliver_queued
from plans.visits import TEMPLATE, schedule_plan_visits
from retention.scheduling import JobContext, ScheduledJobCommand


class Command(ScheduledJobCommand):
    help = "Books each active maintenance plan's next visits up to PLAN_BOOK_AHEAD_DAYS ahead, one email each, then delivers."
    job_name = "schedule_plan_visits"

    def work(self, ctx: JobContext) -> None:
        schedule_plan_visits(ctx)
        if not ctx.dry_run:
            deliver_queued(ctx, template=TEMPLATE)

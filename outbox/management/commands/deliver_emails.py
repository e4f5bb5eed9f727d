"""Drains the outbox: sends every due email and retries those that met a 429, a 5xx or
a timeout. Runs every 5 minutes from cron; safe to run at any time."""

from outbox.delivery import deliver_pending
from outbox.models import OutboundEmail
from retention.scheduling import JobContext, ScheduledJobCommand


class Command(ScheduledJobCommand):
    help = "Deliver due emails from the outbox (through Resend, or Django's email backend without a key)."
    job_name = "deliver_emails"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--limit", type=int, help="Claim at most this many emails.")

    def handle(self, *args, **options):
        self.limit = options.get("limit")
        return super().handle(*args, **options)

    def work(self, ctx: JobContext) -> None:
        Status = OutboundEmail.Status
        ctx.stats["eligible"] = OutboundEmail.objects.filter(
            status__in=[Status.PENDING, Status.SENDING]
        ).count()
        ctx.progress(f"{ctx.stats['eligible']} emails waiting")
        if ctx.dry_run:
            return
        result = deliver_pending(limit=self.limit)
        ctx.stats.update(
            sent=result["sent"],
            failed=result["failed"],
            skipped=result["suppressed"],
            skippedByReason={"consentWithdrawn": result["suppressed"]},
            retried=result["retried"],
            deferred=result["deferred"],
            batches=result["batches"],
            errors=result["errors"],
        )
        ctx.progress(
            f"sent {result['sent']}, failed {result['failed']}, {result['deferred']} left for later"
        )

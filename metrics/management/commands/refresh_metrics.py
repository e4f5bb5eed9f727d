"""Nightly: the metrics page's daily roll-up (metrics.rollup)."""

from retention.scheduling import JobContext, ScheduledJobCommand

from metrics.rollup import catch_up, rebuild


class Command(ScheduledJobCommand):
    help = (
        "Rolls up the staff metrics' daily figures. Without --date: rebuilds yesterday, every "
        "day of the last 53 weeks not rolled up yet, and every day a change since the last run "
        "touched. With --date D: rebuilds day D (a past day) exactly from the records."
    )
    job_name = "refresh_metrics"

    def handle(self, *args, **options):
        self.one_day = options["date"]  # None: the nightly catch-up as of today
        return super().handle(*args, **options)

    def work(self, ctx: JobContext) -> None:
        if self.one_day is not None:
            ctx.progress(f"rebuilding {self.one_day} from the records")
            rebuilt = rebuild([self.one_day])
            ctx.stats.update(eligible=1, sent=rebuilt)
            return
        ctx.progress("rebuilding yesterday, missing days and days changed since the last run")
        result = catch_up(ctx.as_of)
        # eligible: the days kept rolled up; sent: days rebuilt.
        ctx.stats.update(eligible=result["days"], sent=result["rebuilt"], **result)
        ctx.progress(
            f"{result['rebuilt']} days rebuilt ({result['missing']} missing, {result['touched']} touched by "
            f"{result['changes']} journalled changes)"
        )

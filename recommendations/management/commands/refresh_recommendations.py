"""Nightly: recompute service co-occurrence for the RecommendationsWidget (see
recommendations.cooccurrence)."""

from django.conf import settings

from recommendations.cooccurrence import refresh_service_pairs
from retention.scheduling import JobContext, ScheduledJobCommand


class Command(ScheduledJobCommand):
    help = (
        "Replaces the service co-occurrence table (support, confidence, lift per pair of services) "
        "from the jobs completed up to the as-of day; pairs under RECOMMENDATION_MIN_SUPPORT are dropped."
    )
    job_name = "refresh_recommendations"

    def work(self, ctx: JobContext) -> None:
        ctx.progress(
            f"counting services completed together (minimum support {settings.RECOMMENDATION_MIN_SUPPORT})"
        )
        result = refresh_service_pairs(
            as_of=ctx.as_of, min_support=settings.RECOMMENDATION_MIN_SUPPORT
        )
        # eligible: pairs seen together; sent: pairs written; skipped: under the minimum support.
        ctx.stats.update(
            eligible=result["pairs"],
            sent=result["kept"],
            skipped=result["pairs"] - result["kept"],
            customers=result["customers"],
        )
        ctx.progress(
            f"{result['kept']} of {result['pairs']} pairs kept over {result['customers']} customers"
        )

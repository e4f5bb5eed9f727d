"""Mondays 10:00 UTC: the running campaign's personal codes and emails."""

from campaigns.seasonal import JOB_NAME, send_seasonal_reminders
from retention.scheduling import ScheduledJobCommand


class Command(ScheduledJobCommand):
    help = "Sends the active seasonal campaign's promo code to every eligible customer."
    job_name = JOB_NAME

    def work(self, ctx):
        send_seasonal_reminders(ctx)

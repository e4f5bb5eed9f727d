""""Scheduled ahead" is one rule (retention.models.scheduled_ahead): a job still
scheduled, for the as-of day or later. Seasonal and win-back eligibility, service-due
rebooking, the dashboard and the churn view all ask it, so they agree on every job."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from campaigns.seasonal import skip_rules, start_run
from portal.dashboard import dashboard_context
from reminders.selectors import due_services, job_scheduled_ahead
from reminders.winback import winback_targets
from retention.models import Customer, Job, scheduled_ahead
from tests.factories import CampaignFactory, booked_job, job_due_on

TODAY = dt.date(2027, 1, 4)  # a Monday in winter


@pytest.mark.parametrize(
    "scheduled_for,status,ahead",
    [
        (TODAY + dt.timedelta(days=10), Job.Status.SCHEDULED, True),
        (TODAY, Job.Status.SCHEDULED, True),  # its own day still counts
        (TODAY - dt.timedelta(days=1), Job.Status.SCHEDULED, False),  # past, never marked done
        (TODAY + dt.timedelta(days=10), Job.Status.CANCELLED, False),
    ],
)
@pytest.mark.django_db
def test_every_caller_agrees_on_a_job_scheduled_ahead(customer, provider, lawn, scheduled_for, status, ahead):
    CampaignFactory(start_month=12, end_month=2)
    long_ago = TODAY - dt.timedelta(days=200)
    # Lawn care due today (completed long ago), and a visit booked long ago for `scheduled_for`.
    job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=TODAY, booked_on=long_ago)
    booked_job(
        customer=customer, service_type=lawn, provider=provider, booked_on=long_ago,
        scheduled_for=scheduled_for, status=status,
    )
    moment = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(10)))

    with time_machine.travel(moment, tick=False):
        assert Job.objects.filter(scheduled_ahead(TODAY), customer=customer).exists() is ahead
        assert Customer.objects.filter(job_scheduled_ahead(TODAY), pk=customer.pk).exists() is ahead  # churn view
        # Win-back leaves a customer with a job ahead alone.
        assert winback_targets(TODAY).filter(pk=customer.pk).exists() is not ahead
        # The seasonal job skips them for it.
        rule = next(rule for rule in skip_rules(start_run(as_of=TODAY)) if rule.reason == "scheduledAhead")
        assert (customer.pk in rule.customer_ids()) is ahead
        # Service due: the visit ahead rebooks the service; without it, lawn care is due.
        assert bool(due_services(customer=customer, today=TODAY)) is not ahead
        # The dashboard's next job and its count of upcoming jobs.
        dashboard = dashboard_context(customer)
        assert (dashboard["next_job"] is not None) is ahead
        assert dashboard["stats"]["upcoming"] == int(ahead)

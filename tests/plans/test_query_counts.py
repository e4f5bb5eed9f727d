"""schedule_plan_visits is set-based: a fixed number of queries plus a fixed number per
batch, whether 10 or 1,000 subscriptions have a visit to book."""

import datetime as dt
import math

import pytest

from outbox.models import OutboundEmail
from plans.models import PlanVisit, Subscription
from plans.visits import schedule_plan_visits
from retention.models import Customer, Job, User

from .conftest import TODAY, job_context

BATCH = 100
# Fixed: the subscriptions due (with their last visit), the plans, the providers of
# their services, those providers' jobs per day. Per batch: SAVEPOINT, the statement
# writing the visits and jobs, the emails' INSERT, RELEASE SAVEPOINT (the test runs in
# a transaction; in production the savepoint pair is BEGIN/COMMIT).
FIXED, PER_BATCH = 4, 4


def subscriptions_with_a_visit_on(n: int, *, plan, provider, day: dt.date) -> None:
    users = User.objects.bulk_create(User(email=f"plan{i}@example.com", name=f"Plan {i}", password="!") for i in range(n))
    customers = Customer.objects.bulk_create(Customer(user=user) for user in users)
    subscriptions = Subscription.objects.bulk_create(
        Subscription(customer=customer, plan=plan, start_date=day) for customer in customers
    )
    price = plan.service_type.base_price
    jobs = Job.objects.bulk_create(
        Job(customer=c, provider=provider, service_type=plan.service_type, scheduled_for=day, price=price, amount_paid=price)
        for c in customers
    )
    PlanVisit.objects.bulk_create(
        PlanVisit(subscription=s, job=j, scheduled_for=day) for s, j in zip(subscriptions, jobs, strict=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("subscriptions", [10, 1000])
def test_queries_grow_only_with_batches(subscriptions, provider, pool_plan, settings, django_assert_num_queries):
    settings.PROVIDER_JOBS_PER_DAY = 10_000
    subscriptions_with_a_visit_on(subscriptions, plan=pool_plan, provider=provider, day=TODAY + dt.timedelta(days=7))
    ctx = job_context()
    with django_assert_num_queries(FIXED + PER_BATCH * math.ceil(subscriptions / BATCH)):
        schedule_plan_visits(ctx, batch_size=BATCH)
    assert ctx.stats["booked"] == ctx.stats["sent"] == subscriptions
    assert PlanVisit.objects.filter(scheduled_for=TODAY + dt.timedelta(days=14)).count() == subscriptions
    assert OutboundEmail.objects.filter(template="plan_visit_booked").count() == subscriptions

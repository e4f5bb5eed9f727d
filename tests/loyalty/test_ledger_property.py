"""A property test: whatever sequence of earning, redeeming, adjusting and
cancelling happens, every account equals what its ledger sums to, the balance is
never negative and the tier follows lifetime points."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions.jobs import cancel_job, complete_job
from loyalty.services import InsufficientPoints, adjust_points, redeem_reward
from tests.factories import CustomerFactory, JobFactory, RewardFactory, UserFactory

from .conftest import assert_ledger_consistent

amounts = st.decimals(min_value=0, max_value=3000, places=2, allow_nan=False, allow_infinity=False)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), amounts),
        st.tuples(st.just("redeem"), st.integers(min_value=0, max_value=2)),
        st.tuples(st.just("adjust"), st.integers(min_value=-800, max_value=800).filter(bool)),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20)),
    ),
    min_size=1,
    max_size=20,
)


class Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_any_sequence_keeps_the_ledger_invariant(ops, provider, lawn):
    try:
        with transaction.atomic():  # each example starts from the same empty database
            customer = CustomerFactory()
            staff = UserFactory(is_staff=True)
            rewards = [RewardFactory(points_cost=cost) for cost in (50, 300, 1200)]
            jobs = []
            for op, arg in ops:
                if op == "earn":
                    job = JobFactory(customer=customer, provider=provider, service_type=lawn, price=arg)
                    complete_job(job=job, amount=Decimal(arg))
                    jobs.append(job)
                elif op == "redeem":
                    try:
                        redeem_reward(customer=customer, reward_id=rewards[arg].pk)
                    except InsufficientPoints:
                        pass
                elif op == "adjust":
                    try:
                        adjust_points(customer=customer, points=arg, reason="property test", staff=staff)
                    except InsufficientPoints:
                        pass
                elif op == "cancel" and jobs:
                    cancel_job(job=jobs[arg % len(jobs)])
                assert_ledger_consistent(customer)
            call_command("verify_ledger", stdout=open("/dev/null", "w"))
            raise Rollback
    except Rollback:
        pass

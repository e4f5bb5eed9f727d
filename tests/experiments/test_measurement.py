"""The holdout comparison against hand-computed values, and its fixed query count."""

import datetime as dt
import math
import uuid
from decimal import Decimal

import pytest

from experiments.models import Assignment, Send
from experiments.selectors import holdout_comparisons
from experiments.stats import mean_interval, newcombe_difference, welch_difference, wilson
from retention.clock import start_of_business_day
from retention.models import Job
from tests.factories import CustomerFactory, JobFactory

Z = 1.959963984540054


# --- The statistics, by hand ------------------------------------------------------------


def test_wilson_by_hand():
    # 81 of 263: centre (81 + z²/2)/(263 + z²), half-width z/(263 + z²) * sqrt(81*182/263 + z²/4)
    z2 = Z * Z
    centre = (81 + z2 / 2) / (263 + z2)
    half = Z / (263 + z2) * math.sqrt(81 * 182 / 263 + z2 / 4)
    rate = wilson(81, 263)
    assert rate.estimate == pytest.approx(81 / 263)
    assert (rate.low, rate.high) == pytest.approx((centre - half, centre + half))
    assert (round(rate.low, 4), round(rate.high, 4)) == (0.2553, 0.3662)  # Wilson's classic example


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        # Newcombe (1998), Table II, method 10 (the hybrid score interval).
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),  # no bookings in one group
        (0, 10, 0, 20, -0.1611, 0.2775),  # no bookings in either
        (0, 10, 0, 10, -0.2775, 0.2775),
    ],
)
def test_newcombe_matches_the_published_values(x1, n1, x2, n2, low, high):
    lift = newcombe_difference(x1, n1, x2, n2)
    assert lift.estimate == pytest.approx(x1 / n1 - x2 / n2)
    assert (round(lift.low, 4), round(lift.high, 4)) == (low, high)


def test_zero_bookings_among_the_held_out_by_hand():
    """Held out 0 of 20, mailed 3 of 30: low = d - sqrt((p1 - l1)² + (u2 - 0)²)."""
    mailed, held = wilson(3, 30), wilson(0, 20)
    # With x = 0 the interval is [0, z²/(n + z²)].
    assert held.low == pytest.approx(0, abs=1e-12) and held.high == pytest.approx(Z * Z / (20 + Z * Z))
    lift = newcombe_difference(3, 30, 0, 20)
    assert lift.low == pytest.approx(0.1 - math.sqrt((0.1 - mailed.low) ** 2 + held.high**2))
    assert lift.high == pytest.approx(0.1 + math.sqrt((mailed.high - 0.1) ** 2 + 0))
    assert lift.includes_zero


def test_equal_rates_give_an_interval_around_zero():
    lift = newcombe_difference(20, 100, 20, 100)
    assert lift.estimate == 0 and lift.low == pytest.approx(-lift.high) and lift.low < 0 < lift.high


def test_revenue_means_and_welch_by_hand():
    mailed = [Decimal("100"), Decimal("0"), Decimal("50"), Decimal("0")]  # mean 37.5, s² = 2291.67
    held = [Decimal("0"), Decimal("40"), Decimal("0")]  # mean 13.33, s² = 533.33
    total1, squares1 = sum(mailed), sum(v * v for v in mailed)
    total2, squares2 = sum(held), sum(v * v for v in held)
    s1 = (12500 - 150**2 / 4) / 3
    s2 = (1600 - 40**2 / 3) / 2
    per_customer = mean_interval(total1, squares1, 4)
    assert per_customer.estimate == 37.5
    assert per_customer.high - 37.5 == pytest.approx(Z * math.sqrt(s1 / 4))
    diff = welch_difference(total1, squares1, 4, total2, squares2, 3)
    assert diff.estimate == pytest.approx(37.5 - 40 / 3)
    assert diff.high - diff.estimate == pytest.approx(Z * math.sqrt(s1 / 4 + s2 / 3))


# --- The selector on data -----------------------------------------------------------------

AS_OF = dt.date(2027, 1, 4)


def assign(customer, *, held_out, campaign=None, as_of=AS_OF, send=Send.SEASONAL, season="2026"):
    return Assignment.objects.create(
        customer=customer, send=send, campaign=campaign, season=season, as_of=as_of, held_out=held_out
    )


def book(customer, provider, service_type, *, days_after, paid, status=Job.Status.COMPLETED, as_of=AS_OF):
    at = start_of_business_day(as_of + dt.timedelta(days=days_after)) + dt.timedelta(hours=1)
    return JobFactory(
        id=uuid.uuid4(), customer=customer, provider=provider, service_type=service_type, created_at=at,
        scheduled_for=at.date(), price=Decimal(paid), amount_paid=Decimal(paid), status=status,
        completed_at=at if status == Job.Status.COMPLETED else None,
        cancelled_at=at if status == Job.Status.CANCELLED else None,
        next_due_date=at.date() if status == Job.Status.COMPLETED else None,
    )


@pytest.fixture
def small_comparison(winter_campaign, provider, lawn):
    """Mailed: 4 customers, 2 booked within 30 days ($100, $50); one booked on day 30
    (too late) and one cancelled. Held out: 3, none booked in the window."""
    mailed = [CustomerFactory() for _ in range(4)]
    held = [CustomerFactory() for _ in range(3)]
    for c in mailed:
        assign(c, held_out=False, campaign=winter_campaign)
    for c in held:
        assign(c, held_out=True, campaign=winter_campaign)
    book(mailed[0], provider, lawn, days_after=0, paid="100")
    book(mailed[1], provider, lawn, days_after=29, paid="50")
    book(mailed[2], provider, lawn, days_after=30, paid="70")  # after the window
    book(mailed[3], provider, lawn, days_after=3, paid="90", status=Job.Status.CANCELLED)
    book(held[0], provider, lawn, days_after=-1, paid="40")  # before the as-of day
    return mailed, held


@pytest.fixture
def winter_campaign(db):
    from tests.factories import CampaignFactory

    return CampaignFactory(season="winter", title="Winter Comfort", start_month=12, end_month=2)


def test_the_comparison_by_hand(small_comparison, django_assert_num_queries):
    with django_assert_num_queries(2):
        (c,) = holdout_comparisons(AS_OF, AS_OF, today=AS_OF + dt.timedelta(days=40))
    assert c.label == "❄️ Winter Comfort (winter 2026)"
    assert (c.mailed.customers, c.mailed.booked, c.mailed.revenue) == (4, 2, Decimal("150.00"))
    assert (c.held_out.customers, c.held_out.booked, c.held_out.revenue) == (3, 0, Decimal("0.00"))
    assert c.lift == newcombe_difference(2, 4, 0, 3)
    assert c.mailed.revenue_per_customer.estimate == 37.5
    assert c.incremental_bookings.estimate == pytest.approx(0.5 * 4)
    assert c.incremental_revenue.estimate == pytest.approx(37.5 * 4)
    assert c.window_closed and c.lift.includes_zero and not c.conclusive
    assert c.verdict.startswith("Not conclusive yet: the interval includes zero")


def test_not_conclusive_while_the_window_is_open(winter_campaign, provider, lawn):
    mailed = [CustomerFactory() for _ in range(60)]
    held = [CustomerFactory() for _ in range(60)]
    for c in mailed:
        assign(c, held_out=False, campaign=winter_campaign)
        book(c, provider, lawn, days_after=2, paid="80")
    for c in held:
        assign(c, held_out=True, campaign=winter_campaign)
    during = holdout_comparisons(AS_OF, AS_OF, today=AS_OF + dt.timedelta(days=29))[0]
    assert not during.lift.includes_zero  # 100% against 0%: clear, but the window is open
    assert not during.conclusive and "until Feb 3, 2027" in during.verdict
    after = holdout_comparisons(AS_OF, AS_OF, today=AS_OF + dt.timedelta(days=30))[0]
    assert after.conclusive and after.verdict == "Conclusive: mailing raised the booking rate."


def test_winback_by_month_and_the_query_count_does_not_grow(provider, lawn, django_assert_num_queries, db):
    def add(n, month_day):
        for i in range(n):
            c = CustomerFactory()
            assign(c, held_out=i % 5 == 0, send=Send.WINBACK, season=f"{month_day:%Y-%m}", as_of=month_day)
            if i % 3 == 0:
                book(c, provider, lawn, days_after=5, paid="60", as_of=month_day)

    add(10, dt.date(2027, 1, 5))
    with django_assert_num_queries(2):
        small = holdout_comparisons(dt.date(2027, 1, 1), dt.date(2027, 2, 28))
    add(40, dt.date(2027, 2, 9))
    add(40, dt.date(2027, 1, 20))
    with django_assert_num_queries(2):
        large = holdout_comparisons(dt.date(2027, 1, 1), dt.date(2027, 2, 28))
    assert [c.label for c in small] == ["Win-back, January 2027"]
    assert [c.label for c in large] == ["Win-back, February 2027", "Win-back, January 2027"]
    january = large[1]
    assert january.mailed.customers + january.held_out.customers == 50
    assert january.held_out.customers == 2 + 8
    # A month without a run in the period is left out.
    assert [c.label for c in holdout_comparisons(dt.date(2027, 2, 1), dt.date(2027, 2, 28))] == [
        "Win-back, February 2027"
    ]

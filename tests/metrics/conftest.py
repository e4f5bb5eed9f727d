"""Small hand-built data sets whose metrics are known, one per section of the page.

Today is Wednesday 2026-06-03 in New York. The last 4 weeks run from Thursday May 7
to Wednesday June 3, so the week ends are May 13, May 20, May 27 and June 3.
"""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine

from campaigns.models import SEASONAL_SOURCE, Campaign, CampaignSend
from loyalty.models import (
    VOUCHER_SOURCE,
    LoyaltyAccount,
    PointsEntry,
    Redemption,
    Reward,
    TierUpgrade,
)
from metrics.periods import Period
from outbox.models import OutboundEmail
from reminders.models import WINBACK_SOURCE, ServiceReminder, WinbackSend
from retention.models import Job, JobRun
from retention.models.promo import STAFF_ISSUED
from tests.factories import CustomerFactory, JobFactory, PromoCodeFactory, UserFactory

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TODAY = dt.date(2026, 6, 3)


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment in 2026, business (New York) time."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def business_time(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]  # many users, quickly
    with time_machine.travel(at(6, 3, 15), tick=False):
        yield


@pytest.fixture
def four_weeks():
    return Period.last(4, today=TODAY)


@pytest.fixture
def staff_user(db):
    return UserFactory(email="stella@example.com", name="Stella Staff", is_staff=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def book(
    customer,
    service_type,
    provider,
    *,
    booked_at,
    amount="100.00",
    status=Job.Status.SCHEDULED,
    scheduled_for=None,
    promo_code=None,
    cancelled_at=None,
):
    """A job booked at `booked_at`; completed jobs get their completion dates."""
    scheduled_for = scheduled_for or (booked_at + dt.timedelta(days=3)).date()
    fields = {}
    if status == Job.Status.COMPLETED:
        fields = {
            "completed_at": booked_at + dt.timedelta(days=3),
            "next_due_date": scheduled_for + dt.timedelta(days=14),
        }
    if status == Job.Status.CANCELLED:
        fields = {"cancelled_at": cancelled_at or booked_at + dt.timedelta(days=1)}
    return JobFactory(
        customer=customer,
        provider=provider,
        service_type=service_type,
        created_at=booked_at,
        scheduled_for=scheduled_for,
        price=Decimal(amount),
        amount_paid=Decimal(amount),
        status=status,
        promo_code=promo_code,
        **fields,
    )


def promo(customer, source, created_at):
    return PromoCodeFactory(
        customer=customer,
        source=source,
        created_at=created_at,
        expires_at=created_at + dt.timedelta(days=30),
    )


# Every data fixture below: together, a database with something on every metric.
ALL_DATA = (
    "campaign_data", "reminder_data", "loyalty_data", "churn_data", "job_run_data", "email_data", "holdout_data",
)


@pytest.fixture
def campaign_data(lawn, provider):
    """Spring: 10 sends in the period, 3 codes used (one booking cancelled): 30%, $132.
    Summer: 4 sends, none used. Win-back: 5 sends, 2 used: 40%, $160.
    One spring and one win-back send just before the period, their codes used: left out."""
    spring = Campaign.objects.create(
        season="spring",
        title="Spring refresh",
        description="-",
        discount_percent=20,
        start_month=3,
        end_month=5,
    )
    summer = Campaign.objects.create(
        season="summer",
        title="Summer splash",
        description="-",
        discount_percent=15,
        start_month=6,
        end_month=8,
    )
    Campaign.objects.create(
        season="fall",
        title="Fall cleanup",
        description="-",
        discount_percent=10,
        start_month=9,
        end_month=11,
        active=False,
    )

    def send(campaign, sent_at):
        customer = CustomerFactory()
        code = promo(customer, SEASONAL_SOURCE, sent_at)
        return CampaignSend.objects.create(
            campaign=campaign, customer=customer, season_year=2026, promo_code=code, sent_at=sent_at
        )

    def winback(sent_at):
        customer = CustomerFactory()
        code = promo(customer, WINBACK_SOURCE, sent_at)
        return WinbackSend.objects.create(customer=customer, promo_code=code, sent_at=sent_at)

    # Spring, weeks 1-4: 4, 3, 2, 1 sends. The first is 00:30 on May 7 in New York (in);
    # the one before the period is 23:30 on May 6 in New York, already May 7 in UTC (out).
    spring_sends = [send(spring, at(5, 7, 0, 30))] + [
        send(spring, at(5, d)) for d in (8, 9, 13, 14, 16, 20, 21, 27, 30)
    ]
    early = send(spring, at(5, 6, 23, 30))
    book(
        early.customer,
        lawn,
        provider,
        booked_at=at(5, 8),
        amount="500.00",
        promo_code=early.promo_code,
    )
    # Used: booked May 15 (week 2), May 22 (week 3) and May 29 (week 4, then cancelled).
    book(
        spring_sends[0].customer,
        lawn,
        provider,
        booked_at=at(5, 15),
        amount="80.00",
        status=Job.Status.COMPLETED,
        promo_code=spring_sends[0].promo_code,
    )
    book(
        spring_sends[1].customer,
        lawn,
        provider,
        booked_at=at(5, 22),
        amount="52.00",
        promo_code=spring_sends[1].promo_code,
    )
    book(
        spring_sends[4].customer,
        lawn,
        provider,
        booked_at=at(5, 29),
        amount="40.00",
        status=Job.Status.CANCELLED,
        promo_code=spring_sends[4].promo_code,
    )

    for _ in range(4):
        send(summer, at(6, 1))

    # Win-back: 2 sends in week 1, 3 in week 3; two codes used, May 12 (week 1) and June 2 (week 4).
    winbacks = [winback(at(5, d)) for d in (10, 11, 22, 23, 24)]
    book(
        winbacks[0].customer,
        lawn,
        provider,
        booked_at=at(5, 12),
        amount="100.00",
        promo_code=winbacks[0].promo_code,
    )
    book(
        winbacks[3].customer,
        lawn,
        provider,
        booked_at=at(6, 2),
        amount="60.00",
        status=Job.Status.COMPLETED,
        promo_code=winbacks[3].promo_code,
    )
    early_winback = winback(at(4, 20))
    book(
        early_winback.customer,
        lawn,
        provider,
        booked_at=at(5, 9),
        amount="70.00",
        promo_code=early_winback.promo_code,
    )
    # A booking with a staff code is not campaign revenue.
    staff_customer = CustomerFactory()
    book(
        staff_customer,
        lawn,
        provider,
        booked_at=at(5, 9),
        promo_code=promo(staff_customer, STAFF_ISSUED, at(5, 1)),
    )


@pytest.fixture
def reminder_data(service_types, provider):
    """Six reminders in the period to five customers (A twice); reminders 1, 5 and 6
    led to a booking, so customers A and F booked: 2 of 5, 40%."""
    lawn, pool, hvac = (
        service_types["lawn-care"],
        service_types["pool-service"],
        service_types["hvac"],
    )
    a, b, c, d, e, f = (CustomerFactory() for _ in range(6))

    def remind(customer, service, sent_at):
        job = book(
            customer,
            service,
            provider,
            booked_at=sent_at - dt.timedelta(days=20),
            status=Job.Status.COMPLETED,
        )
        return ServiceReminder.objects.create(
            job=job, customer=customer, due_date=sent_at.date(), sent_at=sent_at
        )

    remind(a, lawn, at(5, 10))
    book(a, lawn, provider, booked_at=at(5, 20, 11))  # within 14 days: booked
    remind(b, lawn, at(5, 10))
    book(b, lawn, provider, booked_at=at(5, 24, 12, 1))  # 14 days and a minute: too late
    remind(c, pool, at(5, 12))
    book(c, lawn, provider, booked_at=at(5, 13))  # another service: does not count
    remind(d, pool, at(5, 20))
    book(
        d, pool, provider, booked_at=at(5, 21), status=Job.Status.CANCELLED
    )  # cancelled: does not count
    remind(a, pool, at(5, 27))
    book(a, pool, provider, booked_at=at(5, 28))  # booked
    remind(e, hvac, at(4, 20))  # before the period
    book(e, hvac, provider, booked_at=at(4, 22))
    remind(f, lawn, at(6, 1))
    book(f, lawn, provider, booked_at=at(6, 2))  # booked


@pytest.fixture
def loyalty_data(lawn, staff_user):
    """Tiers today: Bronze 2 (one without an account), Silver 1, Gold 1, Platinum 1;
    7,100 points outstanding. In the period: 305 issued, 750 redeemed, 100 reversed,
    +30 adjusted; rewards redeemed 3 times for 1,000 points; 4 tier upgrades."""
    accounts = {}
    for tier, points, lifetime in [
        ("bronze", 500, 600),
        ("silver", 1200, 1300),
        ("gold", 300, 2600),
        ("platinum", 5100, 5200),
    ]:
        accounts[tier] = LoyaltyAccount.objects.create(
            customer=CustomerFactory(), points=points, lifetime_points=lifetime, tier=tier
        )
    CustomerFactory()  # no account yet: Bronze, no points
    bronze, silver = accounts["bronze"], accounts["silver"]

    def entry(account, points, kind, when, **extra):
        return PointsEntry.objects.create(
            account=account, points=points, type=kind, description=kind, created_at=when, **extra
        )

    entry(bronze, 100, "earn", at(5, 8))
    entry(bronze, 5, "tier_bonus", at(5, 8))
    entry(silver, 50, "adjustment", at(5, 15), created_by=staff_user)
    entry(silver, 200, "earn", at(5, 22))
    entry(silver, -500, "redeem", at(5, 23))
    entry(bronze, -100, "reversal", at(5, 28))
    entry(silver, -20, "adjustment", at(6, 1), created_by=staff_user)
    entry(bronze, -250, "redeem", at(6, 2))
    entry(bronze, 999, "earn", at(4, 1))  # before the period
    entry(bronze, -999, "redeem", at(5, 6, 23, 59))  # before the period (New York time)

    ten_off = Reward.objects.create(
        name="$10 off", description="-", points_cost=500, reward_type="amount_off", reward_value=10
    )
    free_lawn = Reward.objects.create(
        name="Free lawn care",
        description="-",
        points_cost=250,
        reward_type="free_service",
        reward_value=65,
        service_type=lawn,
    )
    Reward.objects.create(
        name="20% off",
        description="-",
        points_cost=1000,
        reward_type="percent_off",
        reward_value=20,
        active=False,
    )

    def redeem(account, reward, when):
        voucher = promo(account.customer, VOUCHER_SOURCE, when)
        return Redemption.objects.create(
            account=account,
            reward=reward,
            points_spent=reward.points_cost,
            voucher=voucher,
            created_at=when,
        )

    redeem(silver, ten_off, at(5, 23))
    redeem(silver, ten_off, at(4, 2))  # before the period
    redeem(bronze, free_lawn, at(6, 2))
    redeem(bronze, free_lawn, at(5, 12))

    for from_tier, to_tier, when in [
        ("bronze", "silver", at(5, 8)),
        ("bronze", "silver", at(5, 22)),
        ("silver", "gold", at(5, 23)),
        ("gold", "platinum", at(6, 3, 9)),
        ("bronze", "silver", at(4, 10)),  # before the period
    ]:
        TierUpgrade.objects.create(
            account=accounts["bronze"], from_tier=from_tier, to_tier=to_tier, created_at=when
        )


@pytest.fixture
def churn_data(lawn, provider):
    """Ten customers; see the expected counts in test_churn_buckets_per_week."""
    customers = {
        name: CustomerFactory(user__name=name) for name in "C1 C2 C3 C4 C5 C6 C7 C8 C10".split()
    }
    completed = Job.Status.COMPLETED
    book(customers["C1"], lawn, provider, booked_at=at(4, 20), status=completed)
    book(customers["C2"], lawn, provider, booked_at=at(3, 1), status=completed)
    book(customers["C2"], lawn, provider, booked_at=at(5, 18))
    book(customers["C3"], lawn, provider, booked_at=at(1, 1), status=completed)
    book(customers["C4"], lawn, provider, booked_at=at(6, 1))
    book(customers["C5"], lawn, provider, booked_at=at(2, 20), status=completed)
    # Booked on March 20 for June 10: scheduled ahead, so active throughout.
    book(customers["C6"], lawn, provider, booked_at=at(3, 20), scheduled_for=dt.date(2026, 6, 10))
    # Booked on March 20 for May 25, cancelled on May 15: active until then.
    book(
        customers["C7"],
        lawn,
        provider,
        booked_at=at(3, 20),
        scheduled_for=dt.date(2026, 5, 25),
        status=Job.Status.CANCELLED,
        cancelled_at=at(5, 15),
    )
    # 21:00 on May 13 in New York is already May 14 in UTC: counts for the week ending May 13.
    book(customers["C10"], lawn, provider, booked_at=at(5, 13, 21))
    # C8 never booked: not counted.


@pytest.fixture
def job_run_data(db):
    def run(name, started, status, **stats):
        return JobRun.objects.create(
            name=name,
            as_of=started.date(),
            status=status,
            started_at=started,
            finished_at=started + dt.timedelta(minutes=2),
            stats={"eligible": 0, "sent": 0, "skipped": 0, "failed": 0, **stats},
            error=stats.get("error", ""),
        )

    run("send_seasonal_reminders", at(5, 11, 10), "succeeded", eligible=40, sent=40)
    run("send_seasonal_reminders", at(5, 18, 10), "succeeded", eligible=30, sent=29, skipped=1)
    run(
        "send_seasonal_reminders",
        at(6, 1, 10),
        "failed",
        eligible=25,
        sent=20,
        failed=5,
        error="ResendError: rate limited",
    )
    run("check_service_due", at(5, 1, 11), "failed", failed=1)  # before the period
    run("check_service_due", at(6, 3, 11), "succeeded", eligible=12, sent=10, skipped=2)
    run("rebuild_search_index", at(5, 20, 3), "succeeded")


@pytest.fixture
def email_data(db):
    count = 0

    def email(template, kind, status, created, sent=None):
        nonlocal count
        count += 1
        return OutboundEmail.objects.create(
            idempotency_key=f"test/{count}",
            template=template,
            kind=kind,
            to_email=f"c{count}@example.com",
            subject="s",
            text_body="t",
            html_body="h",
            status=status,
            created_at=created,
            sent_at=sent,
        )

    for day in (8, 9, 22):
        email("seasonal_offer", "marketing", "sent", at(5, day), at(5, day, 13))
    email("seasonal_offer", "marketing", "failed", at(5, 30))
    email("seasonal_offer", "marketing", "suppressed", at(6, 1))
    email("service_due", "reminder", "sent", at(5, 14), at(5, 14, 13))
    email("service_due", "reminder", "sent", at(6, 2), at(6, 2, 13))
    email("service_due", "reminder", "pending", at(6, 3))
    email("service_due", "reminder", "sent", at(4, 1), at(4, 1, 13))  # before the period


@pytest.fixture
def holdout_data(lawn, provider):
    """Fall campaign (inactive now), run on May 11: 30 mailed, of whom 9 booked within
    30 days ($80 each); 10 held out, of whom 1 booked. One win-back run on May 20: 4
    mailed, 1 held out, nobody booked."""
    from experiments.models import Assignment, Send

    fall = Campaign.objects.create(
        season="fall", title="Fall Tune-up", description="", discount_percent=10,
        start_month=9, end_month=11, active=False,
    )
    as_of = dt.date(2026, 5, 11)
    for i in range(40):
        customer = CustomerFactory()
        held_out = i >= 30
        Assignment.objects.create(
            customer=customer, send=Send.SEASONAL, campaign=fall, season="2026", as_of=as_of, held_out=held_out
        )
        if (not held_out and i < 9) or i == 30:
            JobFactory(
                customer=customer, provider=provider, service_type=lawn, created_at=at(5, 14),
                scheduled_for=dt.date(2026, 5, 20), price=Decimal("80"), amount_paid=Decimal("80"),
            )
    for i in range(5):
        Assignment.objects.create(
            customer=CustomerFactory(), send=Send.WINBACK, season="2026-05", as_of=dt.date(2026, 5, 20),
            held_out=i == 4,
        )
    return fall

"""Each recommendation shown is recorded once per customer, service and day, with one
insert on the first view of the day that shows it and none on later views; staff see,
per reason, who was shown one and who booked."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.periods import Period
from metrics.recommendations import recommendation_conversion
from recommendations.models import RecommendationShown
from tests.factories import CampaignFactory, CustomerFactory, JobFactory, UserFactory, job_due_on

from .conftest import TODAY


@pytest.fixture
def two_reasons(customer, provider, service_types):
    job_due_on(
        customer=customer, service_type=service_types["lawn-care"], provider=provider, due_on=TODAY
    )
    CampaignFactory(
        season="summer", start_month=6, end_month=8, service_types=[service_types["pool-service"]]
    )


def inserts(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured
        if q["sql"].startswith("INSERT") and "recommendationshown" in q["sql"]
    ]


def test_once_per_customer_service_and_day_with_one_insert_on_the_first_view(
    customer_client, customer, two_reasons, july
):
    with CaptureQueriesContext(connection) as captured:
        assert customer_client.get("/customer-portal/").status_code == 200
    [insert] = inserts(captured)
    assert "ON CONFLICT DO NOTHING" in insert  # a request racing this one changes nothing
    for url in ("/customer-portal/", "/api/customer/recommendations"):
        with CaptureQueriesContext(connection) as captured:
            assert customer_client.get(url).status_code == 200
        assert inserts(captured) == []  # recorded today already: nothing written
    rows = RecommendationShown.objects.order_by("reason")
    assert [(r.service_type.slug, r.reason, r.shown_on) for r in rows] == [
        ("lawn-care", "due", TODAY),
        ("pool-service", "on_offer", TODAY),
    ]
    july.shift(dt.timedelta(days=1))
    with CaptureQueriesContext(connection) as captured:
        customer_client.get("/customer-portal/")
    assert len(inserts(captured)) == 1
    assert RecommendationShown.objects.count() == 4


def test_a_service_new_to_the_list_later_in_the_day_is_recorded_then(
    customer_client, customer, provider, service_types, two_reasons
):
    customer_client.get("/customer-portal/")
    job_due_on(customer=customer, service_type=service_types["hvac"], provider=provider, due_on=TODAY)
    with CaptureQueriesContext(connection) as captured:
        customer_client.get("/api/customer/recommendations")
    [insert] = inserts(captured)
    assert RecommendationShown.objects.filter(service_type=service_types["hvac"], shown_on=TODAY).count() == 1
    assert RecommendationShown.objects.filter(customer=customer, shown_on=TODAY).count() == 3


def test_nothing_to_show_writes_nothing_and_says_so(customer_client, service_types):
    with CaptureQueriesContext(connection) as captured:
        html = customer_client.get("/customer-portal/").content.decode()
    assert inserts(captured) == []
    assert 'data-testid="recommendations-empty"' in html


def shown(customer, service, reason, day):
    return RecommendationShown.objects.create(
        customer=customer,
        service_type=service,
        reason=reason,
        shown_on=day,
        shown_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
    )


def booked(customer, service, provider, day, hour=11, **fields):
    return JobFactory(
        customer=customer,
        service_type=service,
        provider=provider,
        created_at=timezone.make_aware(dt.datetime.combine(day, dt.time(hour))),
        **fields,
    )


@pytest.fixture
def conversion_data(provider, service_types):
    lawn, pool = service_types["lawn-care"], service_types["pool-service"]
    day = TODAY - dt.timedelta(days=20)
    ann, ben, cat, dan, eve = (CustomerFactory() for _ in range(5))
    shown(ann, lawn, "due", day)
    shown(ann, lawn, "due", day + dt.timedelta(days=1))  # twice: one customer
    booked(ann, lawn, provider, day + dt.timedelta(days=3))  # booked within 14 days
    shown(ben, lawn, "due", day)
    booked(ben, lawn, provider, day + dt.timedelta(days=16))  # too late
    shown(cat, lawn, "due", day)
    booked(cat, pool, provider, day + dt.timedelta(days=2))  # another service
    shown(dan, lawn, "due", day)
    booked(dan, lawn, provider, day + dt.timedelta(days=2), status="cancelled")  # cancelled
    shown(eve, pool, "on_offer", day)
    booked(
        eve, pool, provider, day + dt.timedelta(days=14), hour=9
    )  # 13 days 23 hours after: counts
    shown(eve, pool, "on_offer", TODAY - dt.timedelta(days=40))  # before the period


def test_conversion_per_reason_on_a_known_set(conversion_data):
    rows = recommendation_conversion(Period.last(4, today=TODAY))
    assert [(r.reason, r.customers, r.customers_booked, r.share_booked) for r in rows] == [
        ("Due or overdue", 4, 1, 0.25),
        ("On offer", 1, 1, 1.0),
        ("Booked together", 0, 0, None),
    ]


def test_the_metrics_page_and_csv(conversion_data, client):
    client.force_login(UserFactory(is_staff=True))
    page = client.get("/admin/metrics/?weeks=4").content.decode()
    assert 'id="recommendations"' in page
    csv = client.get("/admin/metrics/recommendations.csv?weeks=4").content.decode().removeprefix("\ufeff").splitlines()  # the BOM Excel needs
    assert csv == [
        "Reason,Customers shown,Booked that service within 14 days,Share who booked (%)",
        "Due or overdue,4,1,25.0",
        "On offer,1,1,100.0",
        "Booked together,0,0,",
    ]

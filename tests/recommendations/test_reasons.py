"""Each reason appears when it should and not otherwise, never for a scheduled
service, in the order due, on offer, booked together (then urgency, discount, lift)."""

import datetime as dt

import pytest
from django.utils import timezone

from recommendations.models import ServicePair
from recommendations.selectors import recommendations_for
from tests.factories import CampaignFactory, JobFactory, PromoCodeFactory, job_due_on

from .conftest import TODAY


def shown(customer):
    return [
        (r.service_type.slug, r.reason_code, r.reason)
        for r in recommendations_for(customer=customer)
    ]


def pair(had, recommended, lift):
    return ServicePair.objects.create(
        service_type=had,
        recommended=recommended,
        customers=10,
        support=0.1,
        confidence=0.5,
        lift=lift,
        as_of=TODAY,
    )


@pytest.fixture
def types(service_types):
    return service_types


def due_on(customer, provider, service, days_from_today):
    return job_due_on(
        customer=customer,
        service_type=service,
        provider=provider,
        due_on=TODAY + dt.timedelta(days=days_from_today),
    )


class TestDue:
    def test_due_soon_and_overdue_are_recommended(self, customer, provider, types):
        due_on(customer, provider, types["lawn-care"], 2)
        due_on(customer, provider, types["pest-control"], -10)
        assert shown(customer) == [
            ("pest-control", "due", "10 days overdue"),
            ("lawn-care", "due", "Due in 2 days"),
        ]

    def test_not_due_yet_or_long_overdue_is_not_due(self, customer, provider, types):
        due_on(customer, provider, types["lawn-care"], 8)  # beyond the week ahead, not due yet
        due_on(customer, provider, types["pest-control"], -31)  # win-back's, no longer "due"
        assert shown(customer) == []

    def test_booked_again_is_not_due(self, customer, provider, types):
        due_on(customer, provider, types["lawn-care"], 2)
        JobFactory(
            customer=customer,
            provider=provider,
            service_type=types["lawn-care"],
            scheduled_for=TODAY + dt.timedelta(days=5),
        )
        assert shown(customer) == []


class TestOnOffer:
    def test_the_running_campaign_covers_it(self, customer, types):
        CampaignFactory(
            title="Summer Splash",
            season="summer",
            start_month=6,
            end_month=8,
            discount_percent=20,
            service_types=[types["pool-service"]],
        )
        assert shown(customer) == [
            ("pool-service", "on_offer", "On offer: 20% off with Summer Splash")
        ]

    def test_a_campaign_for_every_service_offers_them_all(self, customer, types):
        CampaignFactory(season="summer", start_month=6, end_month=8, discount_percent=20)
        assert [code for _, code, _ in shown(customer)] == ["on_offer"] * 3  # at most three

    @pytest.mark.parametrize("months, active", [((9, 11), True), ((6, 8), False)])
    def test_not_another_months_or_an_inactive_campaign(self, customer, types, months, active):
        CampaignFactory(
            season="fall",
            start_month=months[0],
            end_month=months[1],
            active=active,
            service_types=[types["pool-service"]],
        )
        assert shown(customer) == []

    def test_not_a_service_done_so_recently_it_is_not_due_yet(self, customer, provider, types):
        CampaignFactory(season="summer", start_month=6, end_month=8, service_types=[types["hvac"]])
        JobFactory(
            customer=customer, provider=provider, service_type=types["hvac"], completed_days_ago=20
        )
        assert shown(customer) == []


class TestBookedTogether:
    def test_a_service_others_had_with_yours(self, customer, provider, types):
        lawn, hvac = types["lawn-care"], types["hvac"]
        JobFactory(customer=customer, provider=provider, service_type=lawn, completed_days_ago=3)
        pair(lawn, hvac, 1.8)
        assert shown(customer) == [
            ("hvac", "booked_together", "Customers who had Lawn Care also had HVAC")
        ]

    def test_not_without_one_of_your_services_or_with_lift_at_most_one(
        self, customer, provider, types
    ):
        lawn, pool, hvac = types["lawn-care"], types["pool-service"], types["hvac"]
        JobFactory(customer=customer, provider=provider, service_type=lawn, completed_days_ago=3)
        pair(pool, hvac, 3.0)  # the customer never had pool service
        pair(lawn, types["pest-control"], 1.0)  # no more than chance
        JobFactory(customer=customer, provider=provider, service_type=pool, status="cancelled")
        assert shown(customer) == []


class TestNeverScheduled:
    def test_a_scheduled_service_is_never_recommended_for_any_reason(
        self, customer, provider, types
    ):
        lawn, pool, hvac = types["lawn-care"], types["pool-service"], types["hvac"]
        due_on(customer, provider, lawn, 1)
        CampaignFactory(season="summer", start_month=6, end_month=8, service_types=[pool])
        pair(lawn, hvac, 2.0)
        assert [code for _, code, _ in shown(customer)] == ["due", "on_offer", "booked_together"]
        for service in (lawn, pool, hvac):
            JobFactory(
                customer=customer,
                provider=provider,
                service_type=service,
                scheduled_for=TODAY + dt.timedelta(days=9),
            )
        assert shown(customer) == []

    def test_a_job_scheduled_in_the_past_and_never_done_does_not_count(
        self, customer, provider, types
    ):
        CampaignFactory(
            season="summer", start_month=6, end_month=8, service_types=[types["pool-service"]]
        )
        JobFactory(
            customer=customer,
            provider=provider,
            service_type=types["pool-service"],
            scheduled_for=TODAY - dt.timedelta(days=2),
        )
        assert [code for _, code, _ in shown(customer)] == ["on_offer"]


def test_order_due_then_on_offer_then_booked_together_by_lift(
    customer, provider, service_types, db
):
    from tests.factories import ServiceTypeFactory

    lawn, pool, pest, hvac = (
        service_types[s] for s in ("lawn-care", "pool-service", "pest-control", "hvac")
    )
    windows = ServiceTypeFactory(name="Windows", slug="windows")
    gutters = ServiceTypeFactory(name="Gutters", slug="gutters")
    JobFactory(customer=customer, provider=provider, service_type=gutters, completed_days_ago=200)
    pair(gutters, windows, 1.4)
    pair(gutters, pest, 2.5)
    due_on(customer, provider, lawn, 6)
    CampaignFactory(
        season="summer", start_month=6, end_month=8, discount_percent=25, service_types=[pool]
    )
    assert [(slug, code) for slug, code, _ in shown(customer)] == [
        ("lawn-care", "due"),
        ("pool-service", "on_offer"),
        ("pest-control", "booked_together"),
    ]
    due_on(customer, provider, hvac, -3)  # a second, more urgent, due service pushes the last out
    assert [(slug, code) for slug, code, _ in shown(customer)] == [
        ("hvac", "due"),
        ("lawn-care", "due"),
        ("pool-service", "on_offer"),
    ]
    result = recommendations_for(customer=customer, limit=10)
    assert [(r.service_type.slug, r.reason_code) for r in result][3:] == [
        ("pest-control", "booked_together"),
        ("windows", "booked_together"),
    ]


def test_book_url_preselects_the_service_with_the_customers_code_for_it(customer, service_types):
    pool, hvac = service_types["pool-service"], service_types["hvac"]
    CampaignFactory(season="summer", start_month=6, end_month=8, service_types=[pool, hvac])
    pool_code = PromoCodeFactory(customer=customer, service_types=[pool])
    PromoCodeFactory(
        customer=customer, service_types=[pool], used_at=timezone.now()
    )  # used: never offered
    urls = {r.service_type.slug: r.book_url for r in recommendations_for(customer=customer)}
    assert urls == {
        "pool-service": f"/customer-portal/book/?service=pool-service&code={pool_code.code}",
        "hvac": "/customer-portal/book/?service=hvac",
    }


def test_the_api(customer_client, customer, provider, service_types, client):
    due_on(customer, provider, service_types["lawn-care"], 0)
    body = customer_client.get("/api/customer/recommendations").json()
    assert body == {
        "recommendations": [
            {
                "serviceType": "Lawn Care",
                "reason": "Due today",
                "reasonCode": "due",
                "bookUrl": "/customer-portal/book/?service=lawn-care",
            }
        ]
    }
    customer_client.logout()
    assert client.get("/api/customer/recommendations").status_code == 401


def test_a_service_on_an_active_plan_is_never_recommended(customer, provider, service_types):
    """A plan member's plan service is booked by the plan: never recommended while the
    plan is active, for any reason; recommended again once the plan is cancelled."""
    from plans.models import Plan, Subscription

    lawn, pool = service_types["lawn-care"], service_types["pool-service"]
    due_on(customer, provider, lawn, 1)
    CampaignFactory(season="summer", start_month=6, end_month=8, service_types=[pool])
    assert [slug for slug, _, _ in shown(customer)] == ["lawn-care", "pool-service"]
    plan = Plan.objects.create(name="Weekly pool care", service_type=pool, interval_days=7, discount_percent=10)
    subscription = Subscription.objects.create(
        customer=customer, plan=plan, status=Subscription.Status.ACTIVE, start_date=TODAY
    )
    assert [slug for slug, _, _ in shown(customer)] == ["lawn-care"]
    Subscription.objects.filter(pk=subscription.pk).update(
        status=Subscription.Status.CANCELLED, cancelled_at=timezone.now()
    )
    assert [slug for slug, _, _ in shown(customer)] == ["lawn-care", "pool-service"]

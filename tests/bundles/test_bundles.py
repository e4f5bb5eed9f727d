"""Bundles: which fit now, their prices to the cent, and booking all or nothing."""

import datetime as dt
import json
import zoneinfo
from decimal import Decimal

import pytest
import time_machine

from actions.jobs import BookingError
from bundles.models import Bundle
from bundles.selectors import bundle_offers
from bundles.services import book_bundle
from retention.models import Job
from tests.factories import (
    CustomerFactory,
    JobFactory,
    PromoCodeFactory,
    ProviderFactory,
    ServiceTypeFactory,
)

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TODAY = dt.date(2026, 7, 15)  # a Wednesday in July


@pytest.fixture(autouse=True)
def july(settings):
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(dt.datetime(2026, 7, 15, 12, tzinfo=NEW_YORK), tick=False):
        yield


def make_bundle(services, *, discount=15, start=None, end=None, active=True, name="Yard and Pool"):
    bundle = Bundle.objects.create(
        name=name,
        description="Two services, one day.",
        discount_percent=discount,
        start_month=start,
        end_month=end,
        active=active,
    )
    bundle.service_types.set(services)
    return bundle


@pytest.fixture
def odd_prices(db):
    """Prices whose bundle prices fall on half a cent: 85% of 10.10 is 8.585, of 20.30 is 17.255."""
    return [
        ServiceTypeFactory(name="Gutter Cleaning", slug="gutters", base_price=Decimal("10.10")),
        ServiceTypeFactory(name="Window Washing", slug="windows", base_price=Decimal("20.30")),
    ]


class TestWhatFits:
    def test_in_season_including_months_that_wrap_the_year(self, customer, service_types):
        pair = [service_types["lawn-care"], service_types["pool-service"]]
        make_bundle(pair, name="All year")
        make_bundle(pair, name="Summer", start=6, end=8)
        make_bundle(pair, name="Wraps into July", start=11, end=7)
        make_bundle(pair, name="Winter", start=12, end=2)
        make_bundle(pair, name="Spring", start=3, end=5)
        make_bundle(pair, name="Switched off", active=False)
        names = {o.bundle.name for o in bundle_offers(customer=customer)}
        assert names == {"All year", "Summer", "Wraps into July"}

    def test_not_offered_when_every_service_is_already_scheduled(
        self, customer, provider, service_types
    ):
        lawn, pool = service_types["lawn-care"], service_types["pool-service"]
        make_bundle([lawn, pool])
        JobFactory(
            customer=customer,
            provider=provider,
            service_type=lawn,
            scheduled_for=TODAY + dt.timedelta(days=2),
        )
        [offer] = bundle_offers(customer=customer)
        assert offer.scheduled_names == ["Lawn Care"]
        JobFactory(customer=customer, provider=provider, service_type=pool, scheduled_for=TODAY)
        assert bundle_offers(customer=customer) == []
        # Another customer's jobs change nothing for this one.
        assert len(bundle_offers(customer=CustomerFactory())) == 1

    def test_a_bundle_of_one_service_is_not_offered(self, customer, service_types):
        make_bundle([service_types["hvac"]])
        assert bundle_offers(customer=customer) == []

    def test_prices_to_the_cent(self, customer, odd_prices):
        make_bundle(odd_prices, discount=15)
        [offer] = bundle_offers(customer=customer)
        assert offer.regular_price == Decimal("30.40")
        # 8.585 and 17.255, each half a cent up, as a plan visit's price is rounded
        assert offer.bundle_price == Decimal("25.85")
        assert offer.saving == Decimal("4.55")


class TestBooking:
    def test_books_one_job_per_service_at_the_bundle_price(self, customer, odd_prices):
        ProviderFactory(business_name="Clean Co", service_types=odd_prices)
        make_bundle(odd_prices, discount=15)
        [offer] = bundle_offers(customer=customer)
        jobs = book_bundle(
            customer=customer, offer=offer, scheduled_for=TODAY + dt.timedelta(days=3)
        )
        assert sorted((j.service_type.slug, j.price, j.amount_paid, j.status) for j in jobs) == [
            ("gutters", Decimal("10.10"), Decimal("8.59"), Job.Status.SCHEDULED),
            ("windows", Decimal("20.30"), Decimal("17.26"), Job.Status.SCHEDULED),
        ]
        stored = Job.objects.filter(customer=customer)
        assert sum(j.amount_paid for j in stored) == offer.bundle_price == Decimal("25.85")
        assert {j.scheduled_for for j in stored} == {TODAY + dt.timedelta(days=3)}

    def test_all_or_nothing_names_the_service_without_a_provider(self, customer, service_types):
        lawn, pool, hvac = (
            service_types["lawn-care"],
            service_types["pool-service"],
            service_types["hvac"],
        )
        ProviderFactory(service_types=[lawn])  # nobody does pool service or HVAC
        make_bundle([lawn, pool, hvac])
        [offer] = bundle_offers(customer=customer)
        with pytest.raises(BookingError) as error:
            book_bundle(customer=customer, offer=offer, scheduled_for=TODAY + dt.timedelta(days=1))
        assert "No provider offers HVAC or Pool Service yet, so nothing was booked" in str(
            error.value
        )
        assert not Job.objects.exists()

    def test_a_promo_code_is_refused_on_top(self, customer, provider, service_types):
        make_bundle([service_types["lawn-care"], service_types["pool-service"]])
        code = PromoCodeFactory(customer=customer)
        [offer] = bundle_offers(customer=customer)
        with pytest.raises(BookingError, match="no promo code on top"):
            book_bundle(
                customer=customer, offer=offer, scheduled_for=TODAY, promo_code_text=code.code
            )
        assert not Job.objects.exists()
        code.refresh_from_db()
        assert code.used_at is None

    def test_a_past_date_books_nothing(self, customer, provider, service_types):
        make_bundle([service_types["lawn-care"], service_types["pool-service"]])
        [offer] = bundle_offers(customer=customer)
        with pytest.raises(BookingError, match="today or a later date"):
            book_bundle(customer=customer, offer=offer, scheduled_for=TODAY - dt.timedelta(days=1))
        assert not Job.objects.exists()


class TestApi:
    def test_lists_the_bundles_that_fit_now(self, customer_client, service_types):
        bundle = make_bundle(
            [service_types["lawn-care"], service_types["pool-service"]], discount=15
        )
        make_bundle(
            [service_types["hvac"], service_types["pest-control"]], start=12, end=2, name="Winter"
        )
        body = customer_client.get("/api/customer/bundles").json()
        assert body == {
            "bundles": [
                {
                    "id": bundle.pk,
                    "name": "Yard and Pool",
                    "description": "Two services, one day.",
                    "serviceTypes": ["Lawn Care", "Pool Service"],
                    "discountPercent": 15,
                    "regularPrice": "160.00",
                    "bundlePrice": "136.00",  # 65.00 - 9.75 + 95.00 - 14.25
                }
            ]
        }

    def test_book(self, customer_client, customer, provider, service_types):
        bundle = make_bundle(
            [service_types["lawn-care"], service_types["pool-service"]], discount=15
        )
        response = customer_client.post(
            f"/api/customer/bundles/{bundle.pk}/book",
            json.dumps({"date": "2026-07-20"}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert [
            (j["serviceType"], j["price"], j["amount"], j["scheduledFor"]) for j in body["jobs"]
        ] == [
            ("Lawn Care", "65.00", "55.25", "2026-07-20"),
            ("Pool Service", "95.00", "80.75", "2026-07-20"),
        ]
        assert body["bundlePrice"] == "136.00"
        assert Job.objects.filter(customer=customer).count() == 2

    @pytest.mark.parametrize(
        "payload, status, code",
        [
            ({"date": "2026-07-20", "promoCode": "ABCD-EFGH-JKMN"}, 400, "promo_not_allowed"),
            ({"date": "20 July"}, 400, "invalid_request"),
            ({}, 400, "invalid_request"),
            ({"date": "2026-07-01"}, 400, "booking_failed"),
        ],
    )
    def test_bad_input_changes_nothing(
        self, customer_client, provider, service_types, payload, status, code
    ):
        bundle = make_bundle([service_types["lawn-care"], service_types["pool-service"]])
        response = customer_client.post(
            f"/api/customer/bundles/{bundle.pk}/book",
            json.dumps(payload),
            content_type="application/json",
        )
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
        assert not Job.objects.exists()

    def test_a_bundle_not_offered_now_is_404(self, customer_client, provider, service_types):
        winter = make_bundle(
            [service_types["hvac"], service_types["pest-control"]], start=12, end=2
        )
        response = customer_client.post(
            f"/api/customer/bundles/{winter.pk}/book",
            json.dumps({"date": "2026-07-20"}),
            content_type="application/json",
        )
        assert response.status_code == 404
        assert customer_client.get(f"/customer-portal/bundles/{winter.pk}/").status_code == 404
        assert not Job.objects.exists()

    def test_not_logged_in_and_wrong_role(self, client, provider, service_types):
        assert client.get("/api/customer/bundles").status_code == 401
        client.force_login(provider.user)
        assert client.get("/api/customer/bundles").status_code == 403


class TestPages:
    def test_the_widget_shows_two_with_their_saving_and_none_hides_it(
        self, customer_client, service_types
    ):
        html = customer_client.get("/customer-portal/").content.decode()
        assert 'data-testid="bundles-widget"' not in html
        lawn, pool, pest, hvac = (
            service_types[s] for s in ("lawn-care", "pool-service", "pest-control", "hvac")
        )
        make_bundle([lawn, pool], discount=15, name="Yard and Pool")  # saves $24.00
        make_bundle([pest, hvac], discount=10, name="Bugs and Heat")  # saves $30.90
        make_bundle([lawn, pest], discount=5, name="Small")  # saves $9.25: third, left out
        html = customer_client.get("/customer-portal/").content.decode()
        assert html.count('data-testid="bundle"') == 2
        assert html.index("Bugs and Heat") < html.index("Yard and Pool")
        assert "Save $30.90" in html and "Save $24.00" in html
        assert "Small" not in html

    def test_the_bundle_page_books_and_says_no_code_on_top(
        self, customer_client, customer, provider, service_types
    ):
        bundle = make_bundle(
            [service_types["lawn-care"], service_types["pool-service"]], discount=15
        )
        page = customer_client.get(f"/customer-portal/bundles/{bundle.pk}/").content.decode()
        assert "takes no promo code or voucher on top" in page
        assert "$136.00" in page
        response = customer_client.post(
            f"/customer-portal/bundles/{bundle.pk}/", {"scheduled_for": "2026-07-20"}
        )
        assert response.status_code == 302 and response["Location"] == "/customer-portal/jobs/"
        assert sorted(
            Job.objects.filter(customer=customer).values_list("amount_paid", flat=True)
        ) == [
            Decimal("55.25"),
            Decimal("80.75"),
        ]

    def test_the_page_refuses_a_code_posted_on_top(
        self, customer_client, customer, provider, service_types
    ):
        bundle = make_bundle([service_types["lawn-care"], service_types["pool-service"]])
        code = PromoCodeFactory(customer=customer)
        response = customer_client.post(
            f"/customer-portal/bundles/{bundle.pk}/",
            {"scheduled_for": "2026-07-20", "promo_code": code.code},
        )
        assert response.status_code == 200
        assert "no promo code on top" in response.content.decode()
        assert not Job.objects.exists()


class TestAdmin:
    def test_a_bundle_needs_two_service_types(self, client, service_types):
        from tests.factories import UserFactory

        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        form = {
            "name": "Just lawns",
            "description": "",
            "discount_percent": 10,
            "service_types": [service_types["lawn-care"].pk],
            "start_month": "",
            "end_month": "",
            "active": "on",
        }
        response = client.post("/admin/bundles/bundle/add/", form)
        assert response.status_code == 200
        assert "two or more service types" in response.content.decode()
        form["service_types"].append(service_types["hvac"].pk)
        form["start_month"] = 11  # without an end month
        response = client.post("/admin/bundles/bundle/add/", form)
        assert "both a start and an end month" in response.content.decode()
        form["end_month"] = 2
        assert client.post("/admin/bundles/bundle/add/", form).status_code == 302
        assert Bundle.objects.get().month_range_label == "November to February"

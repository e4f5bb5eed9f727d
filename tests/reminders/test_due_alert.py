"""What a customer sees due: the dashboard ServiceDueAlert, GET /api/customer/jobs/due
and the services page ("View All Services")."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reminders.selectors import urgency_for
from retention.models import Job
from tests.factories import ProviderFactory, booked_job, completed_job, job_due_on

TODAY = dt.date(2026, 6, 15)
NOON_IN_NEW_YORK = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def frozen_today(settings):
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(NOON_IN_NEW_YORK, tick=False):
        yield


@pytest.fixture
def four_due(customer, provider, service_types):
    """Overdue, due today, in 2 days and in 6 days: one service type each."""
    due = {}
    for slug, n in [("hvac", 6), ("pool-service", 2), ("lawn-care", 0), ("pest-control", -4)]:
        due[slug] = job_due_on(customer=customer, service_type=service_types[slug], provider=provider, due_on=days(n))
    return due


def test_urgency_buckets():
    assert [urgency_for(n) for n in (-30, -1, 0, 1, 3, 4, 7, 8)] == [
        "overdue", "overdue", "today", "soon", "soon", "upcoming", "upcoming", "later",
    ]


@pytest.mark.django_db
class TestJobsDueApi:
    def test_urgency_and_most_urgent_first(self, customer_client, four_due, provider):
        response = customer_client.get("/api/customer/jobs/due")
        assert response.status_code == 200
        jobs = response.json()["jobs"]
        assert [(j["serviceType"], j["urgency"], j["daysUntilDue"]) for j in jobs] == [
            ("Pest Control", "overdue", -4),
            ("Lawn Care", "today", 0),
            ("Pool Service", "soon", 2),
            ("HVAC", "upcoming", 6),
        ]
        first = jobs[0]
        assert first == {
            "id": str(four_due["pest-control"].id),
            "serviceType": "Pest Control",
            "dueDate": "2026-06-11",
            "daysUntilDue": -4,
            "urgency": "overdue",
            "provider": {"name": provider.business_name, "phone": provider.phone},
        }

    def test_window_is_thirty_days_overdue_to_seven_ahead(self, customer_client, customer, provider, service_types):
        for slug, n in [("hvac", 8), ("pool-service", 7), ("lawn-care", -30), ("pest-control", -31)]:
            job_due_on(customer=customer, service_type=service_types[slug], provider=provider, due_on=days(n))
        jobs = customer_client.get("/api/customer/jobs/due").json()["jobs"]
        assert [j["daysUntilDue"] for j in jobs] == [-30, 7]

    def test_rebooked_service_is_not_due(self, customer_client, customer, provider, lawn):
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(1))
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-1), scheduled_for=days(4))
        assert customer_client.get("/api/customer/jobs/due").json()["jobs"] == []

    def test_visit_booked_before_the_completion_and_still_ahead_is_not_due(
        self, customer_client, customer, provider, lawn
    ):
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(1))  # done days(-13)
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-16), scheduled_for=days(3))
        assert customer_client.get("/api/customer/jobs/due").json()["jobs"] == []
        assert 'data-testid="service-due-alert"' not in customer_client.get("/customer-portal/").content.decode()

    def test_older_completion_superseded_by_a_newer_one_is_not_due(self, customer_client, customer, provider, lawn):
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(-10), booked_on=days(-30))
        newer = job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(5), booked_on=days(-29))
        jobs = customer_client.get("/api/customer/jobs/due").json()["jobs"]
        assert [(j["id"], j["daysUntilDue"]) for j in jobs] == [(str(newer.id), 5)]

    def test_cancelled_visit_booked_before_the_completion_does_not_count(
        self, customer_client, customer, provider, lawn
    ):
        job = job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(1))
        booked_job(
            customer=customer, service_type=lawn, provider=provider, booked_on=days(-16),
            scheduled_for=days(3), status=Job.Status.CANCELLED,
        )
        assert [j["id"] for j in customer_client.get("/api/customer/jobs/due").json()["jobs"]] == [str(job.id)]

    def test_another_customers_jobs_never_appear(self, customer_client, other_customer, provider, lawn):
        job_due_on(customer=other_customer, service_type=lawn, provider=provider, due_on=days(1))
        assert customer_client.get("/api/customer/jobs/due").json() == {"jobs": []}

    def test_not_logged_in_is_401_json(self, client):
        response = client.get("/api/customer/jobs/due")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    def test_provider_is_403(self, provider_client):
        assert provider_client.get("/api/customer/jobs/due").status_code == 403

    def test_documented_in_openapi(self, client):
        paths = client.get("/api/openapi.json").json()["paths"]
        assert "/api/customer/jobs/due" in paths


@pytest.mark.django_db
class TestServiceDueAlert:
    @pytest.mark.parametrize(
        ("n", "badge", "urgency"),
        [(-4, "Overdue", "overdue"), (0, "Due today", "today"), (2, "Due soon", "soon"), (6, "Coming up", "upcoming")],
    )
    def test_badge_says_the_urgency_in_words(self, customer_client, customer, provider, lawn, n, badge, urgency):
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(n))
        html = customer_client.get("/customer-portal/").content.decode()
        assert 'data-testid="service-due-alert"' in html
        assert re.search(rf'data-testid="urgency-badge" data-urgency="{urgency}"[^>]*>{badge}</span>', html)
        assert "Lawn Care" in html

    def test_shows_the_most_urgent_with_call_and_view_all(self, customer_client, four_due):
        html = customer_client.get("/customer-portal/").content.decode()
        alert = html[html.index('data-testid="service-due-alert"') :]
        alert = alert[: alert.index("</section>")]
        assert "Pest Control" in alert and "Overdue" in alert
        assert 'href="tel:5550199"' in alert and "Call Provider" in alert
        assert 'href="/customer-portal/services/"' in alert and "View All Services" in alert
        assert "3 more services due soon" in alert

    def test_nothing_due_within_seven_days_no_alert(self, customer_client, customer, provider, lawn):
        job_due_on(customer=customer, service_type=lawn, provider=provider, due_on=days(8))
        assert 'data-testid="service-due-alert"' not in customer_client.get("/customer-portal/").content.decode()

    def test_other_customers_due_job_is_not_shown(self, customer_client, other_customer, provider, lawn):
        job_due_on(customer=other_customer, service_type=lawn, provider=provider, due_on=days(1))
        assert 'data-testid="service-due-alert"' not in customer_client.get("/customer-portal/").content.decode()

    def test_dashboard_queries_do_not_grow_with_due_jobs(
        self, customer_client, customer, provider, service_types
    ):
        job_due_on(customer=customer, service_type=service_types["lawn-care"], provider=provider, due_on=days(1))
        with CaptureQueriesContext(connection) as one:
            customer_client.get("/customer-portal/")
        for slug in ("pool-service", "pest-control", "hvac"):
            other_provider = ProviderFactory(service_types=[service_types[slug]])
            job_due_on(customer=customer, service_type=service_types[slug], provider=other_provider, due_on=days(2))
        with CaptureQueriesContext(connection) as four:
            customer_client.get("/customer-portal/")
        assert len(four) == len(one)


@pytest.mark.django_db
class TestServicesPage:
    def test_lists_each_service_with_last_completion_next_due_urgency_and_book(
        self, customer_client, customer, provider, service_types
    ):
        lawn, hvac = service_types["lawn-care"], service_types["hvac"]
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=days(-40))
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=days(-12))  # due in 2
        completed_job(customer=customer, service_type=hvac, provider=provider, completed_on=days(-100))  # due in 80
        response = customer_client.get("/customer-portal/services/")
        assert response.status_code == 200
        html = response.content.decode()
        rows = html.split('data-testid="service-row"')[1:]
        assert len(rows) == 2
        assert 'data-service="lawn-care"' in rows[0] and 'data-service="hvac"' in rows[1]
        assert "Jun 3, 2026" in rows[0]  # last completed (the later lawn job)
        assert "Jun 17, 2026" in rows[0] and "in 2 days" in rows[0] and "Due soon" in rows[0]
        assert 'href="/customer-portal/book/?service=lawn-care"' in rows[0]
        assert "Not due yet" in rows[1] and 'href="/customer-portal/book/?service=hvac"' in rows[1]

    def test_a_booked_visit_is_shown(self, customer_client, customer, provider, lawn):
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=days(-12))
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-1), scheduled_for=days(3))
        assert "Booked for Jun 18" in customer_client.get("/customer-portal/services/").content.decode()

    def test_a_visit_booked_since_the_completion_whose_day_passed_is_shown_booked(
        self, customer_client, customer, provider, lawn
    ):
        # Not done yet but booked after the last completion: the alert leaves it out, so
        # the page says it is booked rather than overdue.
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=days(-20))
        booked_job(customer=customer, service_type=lawn, provider=provider, booked_on=days(-10), scheduled_for=days(-2))
        html = customer_client.get("/customer-portal/services/").content.decode()
        assert "Booked for Jun 13" in html and "Overdue" not in html

    def test_only_the_customers_own_services(self, customer_client, other_customer, provider, lawn):
        completed_job(customer=other_customer, service_type=lawn, provider=provider, completed_on=days(-12))
        html = customer_client.get("/customer-portal/services/").content.decode()
        assert 'data-testid="service-row"' not in html and "No completed services yet" in html

    def test_login_required(self, client):
        response = client.get("/customer-portal/services/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_book_link_preselects_the_service(self, customer_client, customer, provider, lawn):
        completed_job(customer=customer, service_type=lawn, provider=provider, completed_on=days(-12))
        html = customer_client.get("/customer-portal/book/?service=lawn-care").content.decode()
        assert f'<option value="{lawn.pk}" selected>' in html


@pytest.mark.django_db
def test_not_a_customer_is_forbidden(provider_client):
    assert provider_client.get("/customer-portal/services/").status_code == 403


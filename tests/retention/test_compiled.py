"""CompiledQuery runs a queryset's SQL compiled once, with each request's id and day
put where the stand-ins were; it refuses a query whose parameters it cannot place."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.dashboard import JOB_FACTS, job_facts_query
from retention.compiled import CompiledQuery
from retention.models import Job
from tests.factories import CustomerFactory, booked_job, job_due_on

TODAY = dt.date(2026, 6, 15)


@pytest.mark.django_db
@pytest.mark.parametrize("day", [TODAY, TODAY + dt.timedelta(days=20), TODAY - dt.timedelta(days=400)])
def test_the_compiled_query_gives_what_the_queryset_gives(service_types, provider, day):
    customer, other = CustomerFactory(), CustomerFactory()
    for who in (customer, other):
        job_due_on(customer=who, service_type=service_types["lawn-care"], provider=provider, due_on=TODAY + dt.timedelta(days=2))
        job_due_on(customer=who, service_type=service_types["hvac"], provider=provider, due_on=TODAY - dt.timedelta(days=10))
        booked_job(customer=who, service_type=service_types["pool-service"], provider=provider,
                   booked_on=TODAY - dt.timedelta(days=1), scheduled_for=TODAY + dt.timedelta(days=5))
    expected = list(job_facts_query(id=customer.pk, day=day))
    assert expected  # the customer has jobs the query picks
    assert JOB_FACTS.rows(id=customer.pk, day=day) == expected


@pytest.mark.django_db
def test_a_parameter_it_cannot_place_is_refused():
    # The year of the day is neither the id, a date at a fixed distance, nor a constant.
    query = CompiledQuery(lambda *, id, day: Job.objects.filter(customer_id=id, scheduled_for__year=day.year))
    with pytest.raises(ValueError):
        query.rows(id=1, day=TODAY)


@pytest.mark.django_db
@pytest.mark.parametrize("day", [dt.date(2026, 1, 10), dt.date(2026, 7, 10), dt.date(2026, 12, 10)])
def test_the_days_month_is_placed_as_the_campaigns_and_bundles_seasons_read_it(service_types, provider, day):
    from bundles.models import Bundle
    from bundles.selectors import OFFERS, offers_query
    from tests.factories import CampaignFactory

    winter = Bundle.objects.create(name="Winter", discount_percent=10, start_month=12, end_month=2)
    winter.service_types.set([service_types["hvac"], service_types["pest-control"]])
    summer = Bundle.objects.create(name="Summer", discount_percent=10, start_month=6, end_month=8)
    summer.service_types.set([service_types["lawn-care"], service_types["pool-service"]])
    CampaignFactory(season="summer", start_month=6, end_month=8)
    customer = CustomerFactory()
    expected = list(offers_query(id=customer.pk, day=day))
    assert {row[1] for row in expected} == ({"Summer"} if day.month == 7 else {"Winter"})
    assert OFFERS.rows(id=customer.pk, day=day) == expected


@pytest.mark.django_db
def test_a_moment_is_placed_relative_to_now(service_types):
    from recommendations.selectors import CANDIDATE_FIELDS, CANDIDATES, candidates_query
    from tests.factories import PromoCodeFactory

    customer = CustomerFactory()
    now = timezone.now()
    PromoCodeFactory(customer=customer, code="SOONGONE", expires_at=now + dt.timedelta(hours=1))
    for moment in (now, now + dt.timedelta(hours=2)):
        expected = list(candidates_query(id=customer.pk, day=moment.date(), now=moment))
        assert CANDIDATES.rows(id=customer.pk, day=moment.date(), now=moment) == expected
    code = CANDIDATE_FIELDS.index("code")
    codes = {row[code] for row in CANDIDATES.rows(id=customer.pk, day=now.date(), now=now)}
    later = {row[code] for row in CANDIDATES.rows(id=customer.pk, day=now.date(), now=now + dt.timedelta(hours=2))}
    assert codes == {"SOONGONE"} and later == {None}


@pytest.mark.django_db
def test_compiled_pages_count_and_page_as_the_queryset_does(customer, other_customer):
    from django.core.paginator import Paginator

    from retention.compiled import CompiledPages
    from retention.models import Notification

    for who, how_many in ((customer, 7), (other_customer, 2)):
        for i in range(how_many):
            Notification.objects.create(customer=who, kind="job_update", title=f"{who.pk}-{i}", message="m")
    query = CompiledQuery(
        lambda *, id, day: Notification.objects.filter(customer_id=id).order_by("title").values_list("title")
    )
    expected = list(Notification.objects.filter(customer=customer).order_by("title").values_list("title"))
    pages = Paginator(CompiledPages(query, id=customer.pk), 3)
    assert pages.count == 7 and pages.num_pages == 3
    assert [row for n in pages.page_range for row in pages.page(n).object_list] == expected
    assert CompiledPages(query, id=customer.pk)[2:2] == []


@pytest.mark.django_db
@pytest.mark.parametrize("prepared", [True, False])
def test_compiled_queries_are_prepared_once_per_connection_unless_turned_off(settings, customer, prepared):
    from django.db import connection

    settings.DATABASE_PREPARED_STATEMENTS = prepared
    query = CompiledQuery(lambda *, id, day: Job.objects.filter(customer_id=id, scheduled_for__gte=day).values_list("pk"))
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        with CaptureQueriesContext(connection) as logged:
            assert query.rows(id=customer.pk, day=TODAY) == []
        # Logged as Django logs its own: the SQL, with the values in it.
        assert len(logged) == 1 and logged[0]["sql"].startswith("SELECT") and "'2026-06-15'" in logged[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ['%"scheduled_for" >= $2%'])
        assert cursor.fetchone()[0] == (1 if prepared else 0)

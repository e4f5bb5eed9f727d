"""CompiledQuery runs a queryset's SQL compiled once, with each request's id and day
put where the stand-ins were; it refuses a query whose parameters it cannot place."""

import datetime as dt

import pytest

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
def test_a_query_built_with_now_places_it_and_times_from_it(customer):
    from django.utils import timezone

    from campaigns.selectors import ACTIVE_CODES, active_codes_query
    from retention.models import PromoCode

    now = timezone.now()
    for hours, used in [(1, False), (3, False), (-1, False), (5, True)]:
        PromoCode.objects.create(
            customer=customer, source="seasonal", discount_type=PromoCode.DiscountType.PERCENT, discount_value=10,
            expires_at=now + dt.timedelta(hours=hours), used_at=now if used else None,
        )
    for at in (now, now + dt.timedelta(hours=2)):
        expected = list(active_codes_query(id=customer.pk, day=TODAY, now=at))
        assert ACTIVE_CODES.rows(id=customer.pk, now=at) == expected
    assert len(ACTIVE_CODES.rows(id=customer.pk, now=now)) == 2
    assert len(ACTIVE_CODES.rows(id=customer.pk, now=now + dt.timedelta(hours=2))) == 1
    with pytest.raises(ValueError):
        ACTIVE_CODES.rows(id=customer.pk)  # built with now: leaving it out is refused


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
    for _ in range(3):
        assert query.rows(id=customer.pk, day=TODAY) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ['%"scheduled_for" >= $2%'])
        assert cursor.fetchone()[0] == (1 if prepared else 0)

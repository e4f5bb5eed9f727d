"""Promo codes at booking: every bad code is refused clearly and changes nothing;
a code is used once, even by two bookings at once."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from actions.jobs import BookingError, book_job
from retention.models import Job, PromoCode
from retention.models.promo import CODE_ALPHABET, generate_code
from retention.promo import PromoCodeError
from tests.factories import CustomerFactory, PromoCodeFactory, ProviderFactory

TOMORROW = timezone.localdate() + dt.timedelta(days=1)


def book(customer, service_type, code=""):
    return book_job(customer=customer, service_type=service_type, scheduled_for=TOMORROW, promo_code_text=code)


def test_a_valid_code_lowers_the_price_and_is_used(customer, provider, lawn):
    promo = PromoCodeFactory(customer=customer, discount_value=Decimal("20"))
    job = book(customer, lawn, promo.code.lower().replace("-", ""))  # typed loosely
    assert job.price == Decimal("65.00")
    assert job.amount_paid == Decimal("52.00")
    assert job.promo_code == promo
    promo.refresh_from_db()
    assert promo.used_at is not None


@pytest.mark.parametrize(
    ("make_code", "message"),
    [
        (lambda c, o, s: PromoCodeFactory(customer=c, expires_at=timezone.now() - dt.timedelta(minutes=1)), "expired"),
        (lambda c, o, s: PromoCodeFactory(customer=c, used_at=timezone.now()), "already been used"),
        (lambda c, o, s: PromoCodeFactory(customer=o), "isn't valid"),
        (lambda c, o, s: PromoCodeFactory(customer=c, service_types=[s["hvac"]]), "for HVAC only"),
    ],
    ids=["expired", "used", "another-customers", "wrong-service-type"],
)
def test_a_bad_code_is_refused_and_changes_nothing(
    customer, other_customer, provider, service_types, make_code, message
):
    promo = make_code(customer, other_customer, service_types)
    before = PromoCode.objects.values_list("pk", "used_at").get(pk=promo.pk)
    with pytest.raises(PromoCodeError, match=message):
        book(customer, service_types["lawn-care"], promo.code)
    assert Job.objects.count() == 0
    assert PromoCode.objects.values_list("pk", "used_at").get(pk=promo.pk) == before


def test_an_unknown_code_reads_the_same_as_another_customers(customer, provider, lawn):
    with pytest.raises(PromoCodeError, match="That promo code isn't valid."):
        book(customer, lawn, "ABCD-EFGH-JKMN")
    assert Job.objects.count() == 0


def test_booking_a_past_date_is_refused(customer, provider, lawn):
    with pytest.raises(BookingError):
        book_job(customer=customer, service_type=lawn, scheduled_for=timezone.localdate() - dt.timedelta(days=1))
    assert Job.objects.count() == 0


def test_booking_picks_a_provider_who_offers_the_service(customer, service_types):
    pool_only = ProviderFactory(service_types=[service_types["pool-service"]])
    lawn_pro = ProviderFactory(service_types=[service_types["lawn-care"]])
    job = book(customer, service_types["lawn-care"])
    assert job.provider == lawn_pro != pool_only


def test_codes_are_unguessable_and_unambiguous():
    codes = {generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == 12 and set(raw) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set(CODE_ALPHABET)
    # 31 symbols, 12 of them: log2(31**12) = 59.4 bits, over the 50 asked for.
    assert len(CODE_ALPHABET) ** 12 > 2**50


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_with_one_code_exactly_one_succeeds(service_types):
    lawn = service_types["lawn-care"]
    ProviderFactory(service_types=[lawn])
    customer = CustomerFactory()
    promo = PromoCodeFactory(customer=customer)
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt():
        try:
            barrier.wait()
            outcomes.append(book(customer, lawn, promo.code))
        except PromoCodeError as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs = [o for o in outcomes if isinstance(o, Job)]
    errors = [o for o in outcomes if isinstance(o, PromoCodeError)]
    assert len(jobs) == 1 and len(errors) == 1
    assert "already been used" in str(errors[0])
    assert Job.objects.filter(promo_code=promo).count() == 1
    assert Job.objects.count() == 1

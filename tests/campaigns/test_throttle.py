"""The promo-code throttle holds under parallel requests (as from several web workers)."""

import threading

import pytest
from django.db import connection

from actions.jobs import quote
from campaigns.models import PromoCodeAttempt
from campaigns.throttle import MAX_WRONG_CODES, TooManyCodeAttempts, promo_code_attempt
from retention.promo import PromoCodeError
from tests.factories import CustomerFactory, ServiceTypeFactory


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_never_get_more_than_the_limit_looked_up():
    customer = CustomerFactory()
    service = ServiceTypeFactory()
    barrier = threading.Barrier(16)
    outcomes = []

    def guess(i):
        try:
            barrier.wait()
            with promo_code_attempt(customer=customer, text=f"GUES-SCOD-{i:04d}"):
                quote(customer=customer, service_type=service, promo_code_text=f"GUES-SCOD-{i:04d}")
        except TooManyCodeAttempts:
            outcomes.append("throttled")
        except PromoCodeError:
            outcomes.append("looked up")
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("looked up") == MAX_WRONG_CODES
    assert outcomes.count("throttled") == 16 - MAX_WRONG_CODES
    assert PromoCodeAttempt.objects.filter(customer=customer, wrong=True).count() == MAX_WRONG_CODES

"""In production a web request's email is delivered on a background thread after its
transaction commits: the response does not wait for Resend, and the email still goes."""

import json
import time

import pytest

from outbox.after_response import after_response_delivery
from outbox.models import OutboundEmail
from tests.factories import RewardFactory


@pytest.mark.django_db(transaction=True)
def test_the_redemption_answers_before_resend_does_and_the_email_still_goes(
    settings, customer_client, customer, grant, fake_resend
):
    settings.EMAIL_DELIVER_IN_BACKGROUND = True
    grant(customer, 150)
    reward = RewardFactory(name="$10 off", points_cost=150)
    fake_resend.slow_next(1, seconds=2)  # Resend takes 2 s to answer

    started = time.monotonic()
    response = customer_client.post(
        "/api/customer/loyalty/redeem", json.dumps({"rewardId": str(reward.pk)}), content_type="application/json"
    )
    answered_in = time.monotonic() - started

    assert response.status_code == 200
    assert answered_in < 1.5, f"the request waited {answered_in:.2f}s for delivery"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not OutboundEmail.objects.filter(status="sent").exists():
        time.sleep(0.1)
    after_response_delivery.finish()  # stop the thread (and close its connection) as at exit
    email = OutboundEmail.objects.get(template="loyalty_redemption")
    assert email.status == "sent"
    assert [e["to"] for e in fake_resend.emails] == [[customer.email]]

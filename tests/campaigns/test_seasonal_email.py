"""The seasonal email reaches (the fake) Resend with the customer's code, the
unsubscribe link and the one-click headers."""

import datetime as dt
import json
from io import StringIO

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from campaigns.models import CampaignSend
from outbox.models import OutboundEmail
from retention.models import Job
from tests.factories import CampaignFactory, JobFactory


def test_the_seasonal_email_reaches_resend(fake_resend, customer, provider, service_types):
    CampaignFactory(
        season="winter", title="Winter Comfort", discount_percent=20, start_month=1, end_month=12,
        service_types=[service_types["hvac"]],
    )
    booked_at = timezone.now() - dt.timedelta(days=40)
    JobFactory(
        customer=customer, provider=provider, service_type=service_types["lawn-care"], status=Job.Status.CANCELLED,
        created_at=booked_at, scheduled_for=booked_at.date(),
    )
    out = StringIO()
    call_command("send_seasonal_reminders", stdout=out, stderr=StringIO())
    stats = json.loads(out.getvalue().strip().splitlines()[-1])
    assert stats["sent"] == 1 and stats["delivery"]["sent"] == 1

    code = CampaignSend.objects.get(customer=customer).promo_code.code
    [email] = fake_resend.emails
    assert email["to"] == [customer.email]
    assert email["subject"] == "❄️ Winter Comfort: 20% off your next service"
    assert code in email["text"] and code in email["html"]
    assert f"/customer-portal/book/?service=hvac&amp;code={code}" in email["html"]
    unsubscribe = email["headers"]["List-Unsubscribe"].strip("<>")
    assert "/email/unsubscribe/" in unsubscribe
    assert unsubscribe in email["text"] and unsubscribe in email["html"]
    assert email["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT

    # The link in the email works without logging in.
    path = unsubscribe.split("://", 1)[1].split("/", 1)[1]
    assert Client().post(f"/{path}").status_code == 200
    customer.refresh_from_db()
    assert customer.marketing_opt_in is False

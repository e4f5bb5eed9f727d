"""In a real browser: the seasonal banner, "Schedule Services" with the code applied
and the discounted price, booking with the code, and the code then shown as used."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import CampaignSend
from retention.models import Job
from tests.factories import (
    CampaignFactory,
    CustomerFactory,
    JobFactory,
    ProviderFactory,
    ServiceTypeFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_the_seasonal_banner_to_a_booking_with_the_code(live_server, page, log_in):
    hvac = ServiceTypeFactory(slug="hvac", name="HVAC", frequency_days=180, base_price="189.00")
    provider = ProviderFactory(business_name="Cozy Air", service_types=[hvac])
    month = timezone.localdate().month
    CampaignFactory(
        season="winter", title="Winter Comfort", discount_percent=20, start_month=month, end_month=month,
        service_types=[hvac],
    )
    customer = CustomerFactory(user__email="wendy@example.com", user__name="Wendy Winter")
    booked_at = timezone.now() - dt.timedelta(days=200)
    JobFactory(
        customer=customer, provider=provider, service_type=hvac, status=Job.Status.COMPLETED,
        created_at=booked_at, scheduled_for=booked_at.date(), completed_at=booked_at,
        next_due_date=booked_at.date() + dt.timedelta(days=180),
    )
    call_command("send_seasonal_reminders", stdout=StringIO(), stderr=StringIO())
    code = CampaignSend.objects.get(customer=customer).promo_code.code

    log_in(page, "wendy@example.com")
    expect(page).to_have_url(re.compile(r"/customer-portal/$"))
    banner = page.get_by_test_id("seasonal-banner")
    expect(banner.get_by_test_id("season-emoji")).to_have_text("❄️")
    expect(banner.get_by_role("heading", name="Winter Comfort")).to_be_visible()
    expect(banner.get_by_test_id("seasonal-discount")).to_have_text("20% off")
    expect(banner.get_by_test_id("seasonal-code")).to_have_text(code)

    banner.get_by_role("link", name="Schedule Services").click()
    expect(page).to_have_url(re.compile(rf"/customer-portal/book/\?service=hvac&code={code}$"))
    expect(page.get_by_label("Service")).to_have_value(str(hvac.pk))
    expect(page.get_by_label("Promo code (optional)")).to_have_value(code)
    expect(page.get_by_test_id("promo-applied")).to_contain_text(code)
    expect(page.get_by_test_id("price-to-pay")).to_have_text("$151.20")  # 189.00 less 20%

    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("status")).to_contain_text("Booked HVAC")
    expect(page.get_by_role("status")).to_contain_text("for $151.20")
    job = Job.objects.get(customer=customer, status=Job.Status.SCHEDULED)
    assert job.promo_code.code == code and job.amount_paid == job.price * 80 / 100

    page.goto(f"{live_server.url}/customer-portal/")
    expect(page.get_by_test_id("seasonal-code-used")).to_contain_text(code)
    expect(page.get_by_test_id("seasonal-code")).to_have_count(0)
    expect(page.get_by_test_id("promo-banner")).to_have_count(0)

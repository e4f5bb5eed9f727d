"""Issue 18's words, numbers and controls on the customer and provider pages: vouchers
on the rewards page, the booking page's prices, code picker, points preview and date
minimum, the jobs page's amounts and actions, the dashboard alert, the navigation, the
favicon, service names as staff wrote them, and provider dates with the year."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from actions.jobs import BookingError, book_job, complete_job, first_bookable_day
from loyalty.models import VOUCHER_SOURCE
from loyalty.services import adjust_points, redeem_reward
from retention.models import Notification, PromoCode
from tests.factories import JobFactory, RewardFactory, UserFactory, job_due_on

pytestmark = pytest.mark.django_db

BOOK = "/customer-portal/book/"


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def code_for(customer, *, source=VOUCHER_SOURCE, services=(), days=30, used=False, percent=10):
    promo = PromoCode.objects.create(
        customer=customer,
        source=source,
        discount_type=PromoCode.DiscountType.PERCENT,
        discount_value=Decimal(percent),
        expires_at=timezone.now() + dt.timedelta(days=days),
        used_at=timezone.now() if used else None,
    )
    promo.service_types.set(services)
    return promo


@pytest.fixture
def staff(db):
    return UserFactory(email="sam@example.com", is_staff=True, is_superuser=True)


# --- Rewards: the customer's unused vouchers, with a copy button -------------------------


def test_the_rewards_page_lists_my_unused_vouchers_with_a_copy_button(customer_client, customer, other_customer, lawn):
    mine = code_for(customer, services=[lawn])
    used = code_for(customer, used=True)
    expired = code_for(customer, days=-1)
    seasonal = code_for(customer, source="seasonal")
    theirs = code_for(other_customer)
    page = html(customer_client.get("/customer-portal/rewards/"))
    vouchers = page[page.index('data-testid="vouchers"') :]
    vouchers = vouchers[: vouchers.index("</section>")]
    assert mine.code in vouchers and "10% off Lawn Care" in vouchers
    assert f'data-copy="{mine.code}"' in vouchers
    for other in (used, expired, seasonal, theirs):
        assert other.code not in vouchers
    assert "portal/copy.js" in page


def test_a_redemption_in_the_dialog_adds_the_voucher_and_updates_the_bell(customer_client, customer, staff):
    adjust_points(customer=customer, points=500, reason="Gift", staff=staff)
    reward = RewardFactory(name="Ten off", points_cost=100)
    response = customer_client.post(
        "/customer-portal/rewards/redeem/", {"reward": str(reward.pk)}, headers={"HX-Request": "true"}
    )
    body = html(response)
    voucher = customer.promo_codes.get()
    assert re.search(r'id="vouchers"[^>]*hx-swap-oob="true"', body)
    assert f'data-copy="{voucher.code}"' in body
    unread = Notification.objects.filter(customer=customer, read_at__isnull=True).count()
    assert unread >= 1
    bell = re.search(r'<a class="bell" id="bell"[^>]*hx-swap-oob="true"[^>]*>.*?</a>', body, re.S)
    assert bell and f'data-testid="unread-count">{unread}<' in bell.group(0)


# --- Booking --------------------------------------------------------------------------------


def test_the_service_list_shows_prices(customer_client, service_types):
    page = html(customer_client.get(BOOK))
    for service in service_types.values():
        assert f"{service.name} (${service.base_price})" in page


def test_the_date_picker_starts_at_the_first_bookable_day(customer_client, customer, provider, service_types):
    page = html(customer_client.get(BOOK))
    assert f'min="{first_bookable_day().isoformat()}"' in page
    with pytest.raises(BookingError):  # the day before it is refused by book_job itself
        book_job(
            customer=customer,
            service_type=service_types["lawn-care"],
            scheduled_for=first_bookable_day() - dt.timedelta(days=1),
        )


def test_the_code_picker_offers_my_valid_codes_for_the_chosen_service(
    customer_client, customer, other_customer, service_types
):
    lawn, pool = service_types["lawn-care"], service_types["pool-service"]
    any_service = code_for(customer, source="seasonal")
    lawn_only = code_for(customer, services=[lawn])
    pool_only = code_for(customer, services=[pool])
    used = code_for(customer, used=True)
    theirs = code_for(other_customer)
    page = html(customer_client.get(BOOK, {"service": "lawn-care"}))
    picker = page[page.index('data-testid="code-picker"') :]
    picker = picker[: picker.index("</select>")]

    def option(promo):
        return re.search(rf'<option value="{promo.code}"[^>]*>', picker)

    assert option(any_service) and "hidden" not in option(any_service).group(0)
    assert option(lawn_only) and "hidden" not in option(lawn_only).group(0)
    assert "hidden" in option(pool_only).group(0)  # shown when Pool Service is chosen
    assert not option(used) and not option(theirs)


def test_picking_a_code_prices_with_it_and_books_with_it(customer_client, customer, provider, service_types):
    lawn = service_types["lawn-care"]
    promo = code_for(customer, services=[lawn], percent=20)
    day = (first_bookable_day() + dt.timedelta(days=2)).isoformat()
    form = {"service_type": lawn.pk, "scheduled_for": day, "saved_code": promo.code, "promo_code": ""}
    page = html(customer_client.post(BOOK, form))
    to_pay = (lawn.base_price * Decimal("0.8")).quantize(Decimal("0.01"))
    assert f'data-testid="price-to-pay">${to_pay}<' in page
    quoted = re.search(r'name="quoted" value="([^"]+)"', page).group(1)
    customer_client.post(BOOK, {**form, "confirm": "1", "quoted": quoted})
    job = customer.jobs.get()
    assert job.promo_code == promo and job.amount_paid == to_pay


def test_booking_says_the_points_it_will_earn_with_the_tier_bonus(customer_client, customer, provider, service_types, staff):
    lawn = service_types["lawn-care"]
    # Silver (1,000+ lifetime points: 1.05x) from completed jobs.
    job = JobFactory(customer=customer, provider=provider, service_type=lawn, price=Decimal("1000.00"))
    complete_job(job=job, amount=Decimal("1000.00"))
    day = (first_bookable_day() + dt.timedelta(days=2)).isoformat()
    page = html(customer_client.post(BOOK, {"service_type": lawn.pk, "scheduled_for": day}))
    base = int(lawn.base_price)
    assert f"You'll earn <strong>{base + base * 5 // 100} points</strong>" in page.replace("&#x27;", "'")


# --- My jobs: amounts, cancel, reschedule, calendar ----------------------------------------


def test_paid_is_shown_only_for_jobs_done(customer_client, customer, provider, lawn):
    JobFactory(customer=customer, provider=provider, service_type=lawn)
    JobFactory(customer=customer, provider=provider, service_type=lawn, completed_days_ago=10)
    page = html(customer_client.get("/customer-portal/jobs/"))
    rows = re.findall(r'<tr data-testid="job-row" data-status="(\w+)">(.*?)</tr>', page, re.S)
    amounts = {status: re.search(r'data-testid="job-amount">(.*?)</td>', row, re.S).group(1) for status, row in rows}
    assert "Paid" in amounts["completed"]
    assert "Paid" not in amounts["scheduled"] and "due when done" in amounts["scheduled"]


def test_a_scheduled_job_has_cancel_reschedule_and_calendar(customer_client, customer, provider, lawn):
    job = JobFactory(customer=customer, provider=provider, service_type=lawn)
    done = JobFactory(customer=customer, provider=provider, service_type=lawn, completed_days_ago=10)
    page = html(customer_client.get("/customer-portal/jobs/"))
    for url in (f"/customer-portal/jobs/{job.pk}/cancel/", f"/customer-portal/jobs/{job.pk}/reschedule/",
                f"/customer-portal/jobs/{job.pk}/calendar.ics"):
        assert url in page
    assert f"/customer-portal/jobs/{done.pk}/cancel/" not in page


def test_cancelling_my_scheduled_job_gives_the_code_back(customer_client, customer, provider, lawn):
    promo = code_for(customer)
    job = book_job(customer=customer, service_type=lawn, scheduled_for=first_bookable_day(), promo_code_text=promo.code)
    promo.refresh_from_db()
    assert promo.used_at is not None
    response = customer_client.post(f"/customer-portal/jobs/{job.pk}/cancel/", follow=True)
    assert f"Your code {promo.code} is yours to use again." in html(response)
    job.refresh_from_db()
    promo.refresh_from_db()
    assert job.status == "cancelled" and promo.used_at is None and job.promo_code is None


def test_another_customers_job_cannot_be_cancelled_moved_or_downloaded(customer_client, other_customer, provider, lawn):
    job = JobFactory(customer=other_customer, provider=provider, service_type=lawn)
    assert customer_client.post(f"/customer-portal/jobs/{job.pk}/cancel/").status_code == 404
    assert customer_client.post(f"/customer-portal/jobs/{job.pk}/reschedule/", {"scheduled_for": "2099-01-01"}).status_code == 404
    assert customer_client.get(f"/customer-portal/jobs/{job.pk}/calendar.ics").status_code == 404
    job.refresh_from_db()
    assert job.status == "scheduled" and job.scheduled_for != dt.date(2099, 1, 1)


def test_rescheduling_moves_the_job_and_refuses_a_past_day(customer_client, customer, provider, lawn):
    job = JobFactory(customer=customer, provider=provider, service_type=lawn)
    url = f"/customer-portal/jobs/{job.pk}/reschedule/"
    assert f'min="{first_bookable_day().isoformat()}"' in html(customer_client.get(url))
    past = first_bookable_day() - dt.timedelta(days=1)
    assert "Pick today or a later date." in html(customer_client.post(url, {"scheduled_for": past.isoformat()}))
    later = first_bookable_day() + dt.timedelta(days=20)
    response = customer_client.post(url, {"scheduled_for": later.isoformat()})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.scheduled_for == later


def test_the_calendar_file_is_one_all_day_event(customer_client, customer, provider, service_types):
    from icalendar import Calendar

    hvac = service_types["hvac"]
    job = JobFactory(customer=customer, provider=provider, service_type=hvac)
    response = customer_client.get(f"/customer-portal/jobs/{job.pk}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == job.scheduled_for
    assert event.decoded("dtend") == job.scheduled_for + dt.timedelta(days=1)
    assert str(event["summary"]) == f"HVAC with {provider.business_name}"
    assert str(event["uid"]) == f"job-{job.pk}@homeservices"


# --- Words and numbers ----------------------------------------------------------------------


def test_notifications_keep_service_names_as_staff_wrote_them(customer, provider, service_types):
    job = JobFactory(customer=customer, provider=provider, service_type=service_types["hvac"])
    complete_job(job=job)
    notification = Notification.objects.get(customer=customer, title="HVAC completed")
    assert "completed your HVAC." in notification.message


@pytest.fixture
def june_15(settings):
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC), tick=False):
        yield dt.date(2026, 6, 15)


def test_the_dashboard_alert_says_how_many_more_are_overdue(customer_client, customer, provider, service_types, june_15):
    job_due_on(customer=customer, service_type=service_types["lawn-care"], provider=provider, due_on=june_15 - dt.timedelta(days=3))
    # Overdue for longer than the alert's window, but overdue on the services page all the same.
    job_due_on(customer=customer, service_type=service_types["hvac"], provider=provider, due_on=june_15 - dt.timedelta(days=60))
    job_due_on(customer=customer, service_type=service_types["pest-control"], provider=provider, due_on=june_15 - dt.timedelta(days=1))
    page = html(customer_client.get("/customer-portal/"))
    alert = page[page.index('data-testid="service-due-alert"') :]
    alert = alert[: alert.index("</section>")]
    assert "HVAC is due" not in alert  # the alert's own service is the most urgent within its window
    assert re.search(r'<a href="/customer-portal/services/" data-testid="more-overdue">and 2 more overdue</a>', alert)
    services = html(customer_client.get("/customer-portal/services/"))
    assert services.count('data-urgency="overdue"') == 3


def test_the_services_page_is_in_the_navigation_and_pages_have_a_favicon(customer_client):
    page = html(customer_client.get("/customer-portal/"))
    nav = page[page.index('<nav aria-label="Main">') :]
    assert '<a href="/customer-portal/services/"' in nav[: nav.index("</nav>")]
    assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', page)
    response = customer_client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_provider_dates_carry_the_year_when_not_this_year(client, customer, provider, lawn, june_15):
    client.force_login(provider.user)
    JobFactory(customer=customer, provider=provider, service_type=lawn, scheduled_for=dt.date(2026, 7, 1))
    JobFactory(customer=customer, provider=provider, service_type=lawn, scheduled_for=dt.date(2027, 1, 5))
    page = html(client.get("/provider-portal/"))
    assert ">Wed, Jul 1</time>" in page
    assert ">Tue, Jan 5, 2027</time>" in page


def test_the_service_due_email_keeps_the_service_name_as_written():
    from django.template.loader import render_to_string

    subject = render_to_string("emails/service_due/subject.txt", {"services": [{"name": "HVAC", "when": "in 2 days"}]})
    assert subject.strip() == "Your HVAC is due in 2 days"

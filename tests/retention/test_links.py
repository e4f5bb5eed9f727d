"""retention.links.booking_url: the one booking link every email, notification and page uses."""

from retention.links import booking_url
from retention.models import ServiceType


def test_plain_booking_page():
    assert booking_url() == "/customer-portal/book/"


def test_with_a_service_and_a_code():
    lawn = ServiceType(name="Lawn Care", slug="lawn-care")
    assert booking_url(service=lawn, code="AB12-CD34") == "/customer-portal/book/?service=lawn-care&code=AB12-CD34"
    assert booking_url(service="pest-control") == "/customer-portal/book/?service=pest-control"
    assert booking_url(code="XYZ") == "/customer-portal/book/?code=XYZ"


def test_absolute_for_emails(settings):
    settings.SITE_URL = "https://homeservices.example"
    assert booking_url(code="XYZ", absolute=True) == "https://homeservices.example/customer-portal/book/?code=XYZ"

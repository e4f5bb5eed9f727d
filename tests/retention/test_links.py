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


def test_templates_build_the_same_link(db):
    """{% booking_url %} (the promo banner, the redeemed voucher) is booking_url itself."""
    from django.template import Context, Template

    from retention.models import PromoCode

    lawn = ServiceType.objects.create(name="Lawn Care", slug="lawn-care", frequency_days=14, base_price=50)
    rendered = Template(
        "{% load links %}{% booking_url service=lawn code=code %}|{% booking_url code=code %}|"
        "{% booking_url service=none.0 code=code %}|{% booking_url %}"
    ).render(Context({"lawn": lawn, "code": "AB12&CD", "none": PromoCode.objects.none()}))
    expected = [
        booking_url(service=lawn, code="AB12&CD"), booking_url(code="AB12&CD"), booking_url(code="AB12&CD"),
        booking_url(),
    ]
    # Autoescaped in HTML, as a link in an attribute must be.
    assert rendered == "|".join(link.replace("&", "&amp;") for link in expected)

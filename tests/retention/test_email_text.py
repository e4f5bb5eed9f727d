"""Plain-text email parts (subject, body.txt) are not HTML-escaped; the HTML part is."""

import pytest

from outbox.compose import build_email
from outbox.models import OutboundEmail
from outbox.preview import email_template_dirs, sample_context
from retention.models import Customer, User

TITLE = "Lawn & Garden"


def context_with_ampersands() -> dict:
    context = sample_context()
    service = {
        "name": TITLE,
        "due_on": "Monday, June 1",
        "when": "in 3 days",
        "provider_name": "Smith & Sons",
        "provider_phone": "555-0100",
        "provider_tel": "tel:5550100",
        "book_url": "https://example.com/book/?service=lawn&code=X",
    }
    context.update(
        campaign={**context["campaign"], "title": TITLE, "description": "Trim & tidy"},
        services_label=TITLE,
        reward={"name": TITLE, "points_cost": 500, "service_type": {"name": TITLE}},
        voucher={"code": "VCH4RW9TQ2ZD", "label": "$25 off", "expires_at": context["expires_at"]},
        services=[service],
        tier={**context["tier"], "name": TITLE},
        from_tier={"name": "Silver & Up"},
        promo={"code": "WB7XK4M2QP", "label": "20% off"},
    )
    return context


@pytest.mark.parametrize("template", sorted(email_template_dirs()))
def test_text_parts_keep_apostrophes_and_ampersands(template):
    customer = Customer(pk=0, user=User(email="obrien@example.com", name="O'Brien"))
    email = build_email(
        template=template,
        customer=customer,
        kind=OutboundEmail.Kind.MARKETING,
        idempotency_key=f"test/{template}",
        context=context_with_ampersands(),
    )
    for part in (email.subject, email.text_body):
        assert "&amp;" not in part and "&#x27;" not in part and "&#39;" not in part
    assert "O'Brien" in email.text_body
    # The HTML part is still escaped.
    assert "O&#x27;Brien" in email.html_body
    if "Lawn &amp; Garden" in email.html_body:  # every email naming a service, reward or campaign
        assert TITLE in email.text_body


@pytest.mark.django_db
def test_a_subject_with_an_ampersand_is_plain_text(customer):
    customer.user.name = "O'Brien"
    email = build_email(
        template="loyalty_redemption",
        customer=customer,
        kind=OutboundEmail.Kind.TRANSACTIONAL,
        idempotency_key="test/subject",
        context={"reward": {"name": TITLE, "points_cost": 10}, "voucher": {"code": "ABC"}},
    )
    assert email.subject == "Your Lawn & Garden voucher: ABC"

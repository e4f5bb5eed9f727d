"""Plain-text email parts (subject, body.txt) are not HTML-escaped; the HTML part is."""

import pytest

from outbox.compose import build_email
from outbox.models import OutboundEmail
from outbox.preview import SAMPLES, email_template_dirs
from retention.models import Customer, User

TITLE = "Lawn & Garden"


@pytest.mark.parametrize("template", sorted(email_template_dirs()))
def test_text_parts_keep_apostrophes_and_ampersands(template):
    customer = Customer(pk=0, user=User(email="obrien@example.com", name="O'Brien&Co"))
    sample = SAMPLES[template]
    context = sample.build().context
    if "user" in context:  # an email greeting the account's user (password reset)
        context["user"] = customer.user
    email = build_email(
        template=template,
        customer=customer,
        kind=sample.kind,
        idempotency_key=f"test/{template}",
        context=context,
    )
    for part in (email.subject, email.text_body):
        assert "&amp;" not in part and "&#x27;" not in part and "&#39;" not in part
    assert "O'Brien&Co" in email.text_body
    # The HTML part is still escaped (the inliner leaves quotes as they are).
    assert "O'Brien&amp;Co" in email.html_body and "O'Brien&Co" not in email.html_body


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

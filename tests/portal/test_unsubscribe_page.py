"""The unsubscribe page shows whoever holds the link the address only masked."""

import pytest

from portal.preferences import masked_email
from outbox.consent import unsubscribe_token


@pytest.mark.parametrize(
    ("email", "masked"),
    [("casey@example.com", "c•••y@example.com"), ("ab@example.com", "a•••@example.com"), ("a@x.io", "a•••@x.io")],
)
def test_masked_email(email, masked):
    assert masked_email(email) == masked


def test_get_and_post_pages_never_show_the_full_address(client, customer):
    url = f"/email/unsubscribe/{unsubscribe_token(customer)}/"
    for response in (client.get(url), client.post(url)):
        page = response.content.decode()
        assert response.status_code == 200
        assert customer.email not in page and "c•••y@example.com" in page
    customer.refresh_from_db()
    assert customer.marketing_opt_in is False


def test_a_tampered_token_is_400(client, customer):
    response = client.get(f"/email/unsubscribe/{unsubscribe_token(customer)}x/")
    assert response.status_code == 400

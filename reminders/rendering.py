"""Rendering a batch job's email once per distinct content rather than once per customer.

A reminder's subject and bodies depend on the customer only through their short name
("Hi Zoë,"). So build_email renders them once for a stand-in customer whose short name
is a placeholder, and each customer's email is that rendering with their own short
name put in: HTML-escaped in the HTML part, as Django's autoescape would, and as
written in the subject and the text part, which are rendered without escaping. The
result is byte for byte what build_email gives for the real customer
(tests/reminders/test_rendering.py holds the two side by side).

The placeholder is a private-use character around a word: Python's str.split() does
not split on it (so get_short_name and the subject's whitespace clean-up keep it
whole), autoescape leaves it as is, no template writes it and no one types it.
"""

from functools import cache
from typing import NamedTuple

from django.utils.html import escape

from retention.emails import build_email
from retention.models import Customer, User

SHORT_NAME = "\ue000short_name\ue000"


class Rendered(NamedTuple):
    subject: str
    text_body: str
    html_body: str


@cache
def stand_in() -> Customer:
    """The customer rendered for: an unsaved one whose short name is the placeholder."""
    return Customer(user=User(email="stand-in@example.invalid", name=SHORT_NAME))


def render_for_any_customer(*, template: str, kind: str, context: dict) -> Rendered:
    """build_email's subject and bodies with SHORT_NAME where the customer's short name goes.
    Only for emails whose templates read nothing else of the customer: not marketing
    email, whose unsubscribe link is the customer's own."""
    email = build_email(
        template=template, customer=stand_in(), kind=kind, idempotency_key="", context=context
    )
    return Rendered(email.subject, email.text_body, email.html_body)


def for_customer(rendered: Rendered, short_name: str) -> Rendered:
    """The rendering with this customer's short name (User.get_short_name) put in. The
    name has no whitespace and is never empty, so the subject stays as build_email's
    whitespace clean-up left it."""
    return Rendered(
        rendered.subject.replace(SHORT_NAME, short_name),
        rendered.text_body.replace(SHORT_NAME, short_name),
        rendered.html_body.replace(SHORT_NAME, escape(short_name)),
    )


class NameAndEmail(NamedTuple):
    name: str
    email: str


def short_name(name: str, email: str) -> str:
    """User.get_short_name for a user read as two columns, without building a User."""
    return User.get_short_name(NameAndEmail(name, email))

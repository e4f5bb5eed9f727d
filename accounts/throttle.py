"""Login throttling with django-axes (settings: AXES_* in settings.py), on the login page
and the admin login alike: every authenticate() with a request goes through it.

Failures are counted per pair of account and client address, so guessing from one
address cannot lock a customer out everywhere, and one office's shared address is not
locked for all its people. The lockout answer is the same whether or not the account
exists, and it ends by itself LOGIN_COOLOFF_MINUTES after the last failed try.
"""


from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render


def login_username(request: HttpRequest, credentials: dict | None) -> str:
    """The account a login names, as axes counts it: the email, trimmed and lower-cased,
    so "Casey@Example.com " and "casey@example.com" share one count."""
    value = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if value is None:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD, "")
    return str(value).strip().lower()


def cooloff_minutes() -> int:
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def locked_out(request: HttpRequest, original_response=None, credentials: dict | None = None):
    """The answer to a login while its (account, address) pair is locked: 429 and a page
    that says when to try again. Nothing in it depends on whether the account exists."""
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": cooloff_minutes(), "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )

"""The login form (email + password) and the password reset form that sends its email
through the outbox."""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from outbox.compose import Kind, queue_email
from outbox.models import OutboundEmail
from outbox.preview import Sample
from retention.links import absolute_url
from retention.models import User

PASSWORD_RESET_TEMPLATE = "password_reset"
RESET_LIMIT_WINDOW = dt.timedelta(hours=24)


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


def password_reset_url(user: User, token: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return absolute_url(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}))


def password_reset_context(*, user: User, reset_url: str) -> dict:
    """The password-reset email's context: the real send's and the staff preview's."""
    return {"user": user, "reset_url": reset_url, "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}


def queue_password_reset_email(*, user: User) -> OutboundEmail | None:
    """One transactional email with a link to choose a new password (valid for
    PASSWORD_RESET_TIMEOUT, and only until the password changes).

    At most PASSWORD_RESET_EMAILS_PER_DAY to one address in any 24 hours: past that,
    nothing is queued and the page answers as always, so the form cannot flood anyone's
    inbox. The user's row is locked while counting, so parallel requests count each other.
    """
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        if reset_emails_lately(user.email) >= settings.PASSWORD_RESET_EMAILS_PER_DAY:
            return None
        token = default_token_generator.make_token(user)
        return queue_email(
            template=PASSWORD_RESET_TEMPLATE,
            customer=getattr(user, "customer", None),
            kind=Kind.TRANSACTIONAL,
            # A token is unique to the user's state and the second it was made: two
            # requests in the same second share one email.
            idempotency_key=f"password_reset/{user.pk}/{token}",
            context=password_reset_context(user=user, reset_url=password_reset_url(user, token)),
            to_email=user.email,
        )


def reset_emails_lately(email: str) -> int:
    """Password-reset emails queued to this address (in any case: one inbox) in the last
    24 hours."""
    return OutboundEmail.objects.filter(
        template=PASSWORD_RESET_TEMPLATE, to_email__iexact=email, created_at__gt=timezone.now() - RESET_LIMIT_WINDOW
    ).count()


def password_reset_sample() -> Sample:
    user = User(pk=1, email="sam.sample@example.com", name="Sam Sample")
    reset_url = absolute_url(reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "sample-token"}))
    context = password_reset_context(user=user, reset_url=reset_url)
    return Sample(context, key_values=(reset_url, f"{context['valid_days']} days"))


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's form, whose answer never says whether the email has an account; the email
    goes through the outbox instead of Django's mailer."""

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            for user in self.get_users(self.cleaned_data["email"]):
                queue_password_reset_email(user=user)

"""Email preferences: the customer's page, and the one-click unsubscribe link that
works without logging in."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from outbox.consent import (
    customer_for_unsubscribe_token,
    unsubscribe_from_marketing,
    update_email_preferences,
)

from .access import customer_required


class EmailPreferencesForm(forms.Form):
    marketing = forms.BooleanField(
        required=False,
        label="Seasonal offers and come-back discounts",
        help_text="At most one email a week.",
    )
    service_reminders = forms.BooleanField(
        required=False,
        label="Service reminders",
        help_text="When a service you had is due again.",
    )


@customer_required
def email_preferences(request):
    customer = request.customer
    form = EmailPreferencesForm(
        request.POST or None,
        initial={
            "marketing": customer.marketing_opt_in,
            "service_reminders": customer.service_reminders_opt_in,
        },
    )
    if request.method == "POST" and form.is_valid():
        update_email_preferences(
            customer=customer,
            marketing=form.cleaned_data["marketing"],
            service_reminders=form.cleaned_data["service_reminders"],
        )
        messages.success(request, "Your email preferences are saved.")
        return redirect("portal:email_preferences")
    return render(request, "portal/preferences.html", {"form": form, "customer": customer})


def masked_email(email: str) -> str:
    """casey@example.com -> c•••y@example.com: enough for the customer to recognise,
    not enough for whoever else holds the link to learn the address."""
    local, _, domain = email.rpartition("@")
    if len(local) <= 2:
        return f"{local[:1]}•••@{domain}"
    return f"{local[0]}•••{local[-1]}@{domain}"


@csrf_exempt  # mail clients POST without a CSRF token (RFC 8058); the signed token authorizes
def unsubscribe(request, token):
    """One-click unsubscribe from marketing email; works without logging in.

    POST (the mail client's RFC 8058 one-click, or the page's button) unsubscribes. GET
    shows the page, which submits itself in a browser: one click for a person, while
    link scanners that merely fetch URLs unsubscribe nobody. The page shows the address
    masked: emails get forwarded, so whoever holds the link may not be the customer.

    Tokens do not expire, on purpose: RFC 8058 expects the List-Unsubscribe link of an
    email to keep working for as long as that email sits in an inbox, and all a token
    can do is turn marketing email off (undone only by the customer, logged in).
    """
    customer = customer_for_unsubscribe_token(token)
    if customer is None:
        return render(request, "portal/unsubscribe.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        unsubscribe_from_marketing(customer=customer)
        done = True
    return render(
        request, "portal/unsubscribe.html", {"masked_email": masked_email(customer.email), "done": done}
    )

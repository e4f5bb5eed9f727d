"""The invited friend's page: /r/<code>. Public, plain HTML forms (works without
JavaScript), thin over referrals.services."""

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from retention.client_ip import client_ip

from .forms import SignUpForm
from .selectors import terms
from .services import find_code, first_name, record_link_open, sign_up

OPENED_SESSION_KEY = "referral_links_opened"


@require_http_methods(["GET", "HEAD", "POST"])
def landing(request, code: str):
    """Who invited you, the friend's offer and the sign-up form. An unknown code answers
    404 with the same form, so the visitor can still sign up (without the offer)."""
    referral_code = find_code(code)
    advocate = referral_code.customer if referral_code else None
    visitor = request.user if request.user.is_authenticated else None
    is_advocate = visitor is not None and advocate is not None and visitor.pk == advocate.user_id
    if request.method == "POST":
        form = SignUpForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            result = sign_up(
                name=data["name"],
                email=data["email"],
                password=data["password"],
                code=referral_code,
                ip=client_ip(request),
                visitor=visitor,
            )
            # One answer whether or not the email had an account (no account enumeration):
            # the same redirect; a new account is signed in, an existing one was emailed.
            if result.user is not None:
                login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, "Welcome to HomeServices! Check your email for what's next.")
            else:
                messages.info(request, "Check your email for what's next.")
            return redirect("portal:dashboard")
    else:
        form = SignUpForm()
        if referral_code is not None and not is_advocate:
            _count_open_once_per_session(request, referral_code)
    context = {
        "form": form,
        "code": code,
        "advocate_name": first_name(advocate.user) if advocate else "",
        "terms": terms(),
        "is_advocate": is_advocate,
        "signed_in_customer": visitor is not None and hasattr(visitor, "customer") and not is_advocate,
    }
    return render(request, "referrals/landing.html", context, status=200 if referral_code else 404)


def _count_open_once_per_session(request, referral_code) -> None:
    opened = request.session.get(OPENED_SESSION_KEY, [])
    if referral_code.code in opened:
        return
    record_link_open(code=referral_code)
    request.session[OPENED_SESSION_KEY] = (opened + [referral_code.code])[-20:]

"""Every page a person can open, by role: the one list the page walk
(tests/browser/test_every_page.py) visits. A new page goes here; test_site_pages.py
fails while a page in the URLconf is neither listed here nor in NOT_PAGES.

Paths with an object in them are built from the demo data (seed_demo) when the walk
runs: `pages_for(role)` returns the concrete paths.
"""

from django.contrib import admin
from django.urls import reverse

# URL names (namespace:name) that answer GET with a page for one of the roles below.
CUSTOMER_PAGES = [
    "portal:dashboard",
    "portal:book",
    "portal:jobs",
    "portal:services",
    "portal:rewards",
    "portal:rewards_redeem",  # ?reward=<id>: the confirmation without JavaScript
    "portal:points_history",
    "portal:notifications",
    "portal:email_preferences",
    "portal:job_reschedule",
    "plans:page",
    "bundles:bundle",
]
PROVIDER_PAGES = [
    "portal:provider",
]
STAFF_PAGES = [
    "admin:index",
    "metrics:page",
    "admin:outbox_email_preview",
    "admin:outbox_outboundemail_rendered",
    # and every registered model's list, add and change page (admin_pages below)
]
PUBLIC_PAGES = [
    "login",
    "password_reset",
    "password_reset_done",
    "referrals:landing",
    "portal:unsubscribe",
]

# URL names that are not pages of their own, and why.
NOT_PAGES = {
    "portal:root": "redirects to portal:home",
    "portal:home": "redirects to each role's start page",
    "portal:provider_complete": "POST only",
    "logout": "POST only",
    "password_reset_confirm": "needs a token from an email; Django's own page",
    "password_reset_complete": "Django's own page after a reset",
    "metrics:export": "CSV, not a page",
    "portal:favicon": "an icon",
    "portal:job_cancel": "POST only",
    "portal:job_calendar": "an .ics file",
    "plans:subscribe": "POST only",
    "plans:change": "POST only",
}

# URL namespaces walked another way: the admin's pages come from its registry (admin_pages).
WALKED_ELSEWHERE = {"admin"}
# URL namespaces that are not pages: the JSON API (django-ninja) and its docs.
NOT_PAGE_NAMESPACES = {"api"}


def _demo_arguments() -> dict[str, str]:
    """Query strings and path arguments the demo data gives the pages that need them."""
    from bundles.selectors import bundle_offers
    from loyalty.models import Reward
    from outbox.models import OutboundEmail
    from outbox.consent import unsubscribe_token
    from referrals.models import ReferralCode
    from retention.models import Customer, Job

    demo = Customer.objects.get(user__email="demo@example.com")
    scheduled = demo.jobs.filter(status=Job.Status.SCHEDULED).order_by("scheduled_for").first()
    email = OutboundEmail.objects.order_by("pk").first()
    return {
        "portal:rewards_redeem": reverse("portal:rewards_redeem")
        + f"?reward={Reward.objects.filter(active=True).order_by('points_cost').first().pk}",
        "admin:outbox_outboundemail_rendered": email
        and reverse("admin:outbox_outboundemail_rendered", args=[email.pk]),
        "referrals:landing": reverse(
            "referrals:landing", args=[ReferralCode.objects.get(customer=demo).code]
        ),
        "portal:unsubscribe": reverse("portal:unsubscribe", args=[unsubscribe_token(demo)]),
        "portal:job_reschedule": scheduled and reverse("portal:job_reschedule", args=[scheduled.pk]),
        "bundles:bundle": (offers := bundle_offers(customer=demo))
        and reverse("bundles:bundle", args=[offers[0].bundle.pk]),
    }


def admin_pages() -> list[str]:
    """Each registered model's list page, its add page where staff may add, and the
    change (or view) page of its first row."""
    paths = []
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        paths.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(_FakeStaffRequest()):
            paths.append(reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    return paths


class _FakeStaffRequest:
    """Enough of a request for has_add_permission(): a superuser."""

    class user:  # noqa: N801
        is_active = is_staff = is_superuser = True

        @staticmethod
        def has_perm(*args, **kwargs):
            return True


def pages_for(role: str) -> list[str]:
    names = {
        "customer": CUSTOMER_PAGES,
        "provider": PROVIDER_PAGES,
        "staff": STAFF_PAGES,
        "public": PUBLIC_PAGES,
    }[role]
    arguments = _demo_arguments()
    paths = [arguments[name] if name in arguments else reverse(name) for name in names]
    assert all(paths), f"the demo data has nothing to show on one of {names}"
    if role == "staff":
        paths += admin_pages()
    return [path for path in paths if path]

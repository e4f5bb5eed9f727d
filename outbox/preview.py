"""Renders every email template with sample data, for the staff preview page.

Each folder under templates/emails/ (except `_layout`-style folders starting with
"_") is one email. It renders with SAMPLE_CONTEXT, a sample customer, and the
folder's optional `sample.json` (its keys override the samples; `"_kind"` picks the
email kind, marketing by default so the unsubscribe footer shows).
"""

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.utils import get_app_template_dirs
from django.utils import timezone

from retention.links import booking_url
from retention.models import Customer, User

from .compose import build_email
from .models import OutboundEmail

REQUIRED_FILES = ("subject.txt", "body.txt", "body.html")


@dataclass
class Preview:
    name: str
    email: OutboundEmail | None = None
    error: str = ""


def email_template_dirs() -> dict[str, Path]:
    """Email name -> its folder, first template directory winning as Django's loader does."""
    roots = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    roots += [Path(d) for d in get_app_template_dirs("templates")]
    found: dict[str, Path] = {}
    for root in roots:
        emails = root / "emails"
        if not emails.is_dir():
            continue
        for folder in sorted(emails.iterdir()):
            if folder.is_dir() and not folder.name.startswith("_") and folder.name not in found:
                if all((folder / name).exists() for name in REQUIRED_FILES):
                    found[folder.name] = folder
    return dict(sorted(found.items()))


def sample_customer() -> Customer:
    user = User(email="sam.sample@example.com", name="Sam Sample")
    return Customer(pk=0, user=user, phone="555-0100")


def sample_context() -> dict:
    today = timezone.localdate()
    now = timezone.now()
    site = settings.SITE_URL
    provider = {
        "business_name": "Green Thumb Lawn Co.",
        "phone": "555-0142",
        "name": "Green Thumb Lawn Co.",
    }
    service_type = {"name": "Lawn Care", "slug": "lawn-care", "frequency_days": 14}
    tier = {"key": "gold", "name": "Gold", "multiplier": "1.10", "threshold": 2500}
    return {
        "campaign": {
            "season": "spring",
            "emoji": "🌸",
            "title": "Spring refresh",
            "discount_percent": 20,
            "description": "Get your yard and home ready for the season.",
            "get_season_display": "Spring",
        },
        "promo_code": {
            "code": "SPRG7XK4M2QP",
            "expires_at": now + dt.timedelta(days=30),
            "discount_value": 20,
            "discount_type": "percent",
        },
        "code": "SPRG7XK4M2QP",
        "discount_percent": 20,
        "expires_at": now + dt.timedelta(days=30),
        "service_type": service_type,
        "provider": provider,
        "job": {
            "service_type": service_type,
            "provider": provider,
            "scheduled_for": today,
            "completed_at": now,
            "next_due_date": today + dt.timedelta(days=3),
            "amount_paid": "149.00",
        },
        "due_date": today + dt.timedelta(days=3),
        "days_until_due": 3,
        "tier": tier,
        "new_tier": tier,
        "old_tier": {"key": "silver", "name": "Silver", "multiplier": "1.05"},
        "points": 2640,
        "lifetime_points": 2640,
        "points_awarded": 149,
        "reward": {"name": "$25 off your next service", "points_cost": 500},
        "voucher_code": "VCH4RW9TQ2ZD",
        "book_url": booking_url(code="SPRG7XK4M2QP", absolute=True),
        "dashboard_url": f"{site}/customer-portal/",
        "rewards_url": f"{site}/customer-portal/rewards/",
    }


def render_preview(name: str, folder: Path) -> Preview:
    context = sample_context()
    kind = OutboundEmail.Kind.MARKETING
    sample_file = folder / "sample.json"
    try:
        if sample_file.exists():
            extra = json.loads(sample_file.read_text())
            kind = extra.pop("_kind", kind)
            context.update(extra)
        email = build_email(
            template=name,
            customer=sample_customer(),
            kind=kind,
            idempotency_key=f"preview/{name}",
            context=context,
        )
    except Exception as exc:  # show the broken template, keep the page up
        return Preview(name=name, error=f"{type(exc).__name__}: {exc}")
    return Preview(name=name, email=email)


def render_all_previews() -> list[Preview]:
    return [render_preview(name, folder) for name, folder in email_template_dirs().items()]

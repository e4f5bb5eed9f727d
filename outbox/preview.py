"""The staff preview of every email, rendered by the same code the real email uses.

Each folder under templates/emails/ (except `_layout`-style folders starting with
"_") is one email. The app that sends it registers a sample (register_sample): its
kind, and a function that builds the email's context with the very function the real
send calls, from sample objects, and says which values the email must show (the
code, the reward, the tiers). So a preview cannot drift from the email it shows, and
tests/retention/test_email_preview.py checks that every preview holds its values.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.utils import get_app_template_dirs

from retention.models import Customer, User

from .compose import build_email
from .models import OutboundEmail

REQUIRED_FILES = ("subject.txt", "body.txt", "body.html")
SAMPLE_TODAY = dt.date(2026, 4, 6)  # a Monday in spring: the samples do not depend on the clock


@dataclass(frozen=True)
class Sample:
    """What the preview renders an email with: its context, as the real send builds it
    from sample objects, and the values the email must show."""

    context: dict
    key_values: tuple[str, ...]


@dataclass(frozen=True)
class EmailSample:
    template: str
    kind: str  # OutboundEmail.Kind
    build: Callable[[], Sample]


SAMPLES: dict[str, EmailSample] = {}


def register_sample(template: str, kind: str, build: Callable[[], Sample]) -> None:
    """Called by the app that sends `template` (from its AppConfig.ready)."""
    SAMPLES[template] = EmailSample(template=template, kind=kind, build=build)


@dataclass
class Preview:
    name: str
    email: OutboundEmail | None = None
    key_values: tuple[str, ...] = ()
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


def render_preview(name: str) -> Preview:
    sample = SAMPLES.get(name)
    if sample is None:
        return Preview(name=name, error=f"No sample registered for {name} (outbox.preview.register_sample).")
    try:
        built = sample.build()
        email = build_email(
            template=name,
            customer=sample_customer(),
            kind=sample.kind,
            idempotency_key=f"preview/{name}",
            context=built.context,
        )
    except Exception as exc:  # show the broken template, keep the page up
        return Preview(name=name, error=f"{type(exc).__name__}: {exc}")
    return Preview(name=name, email=email, key_values=built.key_values)


def render_all_previews() -> list[Preview]:
    return [render_preview(name) for name in email_template_dirs()]

"""Which email backend the settings pick (PRODUCT.md: without a Resend key, emails go
to the console/file backend). Settings are read once per process, so each case runs
in a fresh interpreter with its own environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMTP = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"


def backend(**env: str) -> str:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("RESEND_API_KEY", "EMAIL_BACKEND", "DEBUG")
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="x" * 64, **env)
    code = "from django.conf import settings; print(settings.MAILERS['default']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.parametrize("debug", ["true", "false"])
def test_without_a_resend_key_email_goes_to_the_console(debug):
    assert backend(DEBUG=debug) == CONSOLE


def test_with_a_resend_key_djangos_own_mail_goes_by_smtp():
    assert backend(DEBUG="false", RESEND_API_KEY="re_test") == SMTP


def test_email_backend_overrides_the_default():
    filebased = "django.core.mail.backends.filebased.EmailBackend"
    assert backend(DEBUG="false", EMAIL_BACKEND=filebased) == filebased

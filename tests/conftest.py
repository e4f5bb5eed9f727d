"""Fixtures shared by every test: the four service types, people, clients, and a
real Chromium driven by Playwright for browser tests."""

import os

import pytest

from retention.demo import SERVICE_TYPES
from tests.factories import CustomerFactory, ProviderFactory, ServiceTypeFactory

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing is deliberately slow; tests only need passwords to match."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def deliver_inline(settings):
    """Tests run inside a transaction a background thread cannot see, so after-commit
    delivery runs inline; tests/retention/test_deliver_after_response.py covers the thread."""
    settings.EMAIL_DELIVER_IN_BACKGROUND = False


@pytest.fixture(autouse=True)
def no_holdout_groups(settings):
    """Holdout groups off (HOLDOUT_PERCENT 0, as an operator may set it) unless a test
    turns them on (tests/experiments): elsewhere every eligible customer is mailed."""
    settings.HOLDOUT_PERCENT = 0


@pytest.fixture
def service_types(db):
    """The four real service types, by slug."""
    return {
        slug: ServiceTypeFactory(slug=slug, name=name, frequency_days=freq, base_price=price)
        for name, slug, freq, price in SERVICE_TYPES
    }


@pytest.fixture
def lawn(service_types):
    return service_types["lawn-care"]


@pytest.fixture
def customer(db):
    return CustomerFactory(user__email="casey@example.com", user__name="Casey Customer")


@pytest.fixture
def other_customer(db):
    return CustomerFactory(user__email="otto@example.com", user__name="Otto Other")


@pytest.fixture
def provider(service_types):
    return ProviderFactory(
        user__email="pro@example.com", business_name="Pro Lawn and Pool", service_types=list(service_types.values())
    )


@pytest.fixture
def customer_client(client, customer):
    """Logged in as a customer who has been here before: one who has the referral code
    their first dashboard view creates (tests/referrals/test_dashboard.py counts that
    view), so query counts compare like with like."""
    from referrals.services import ensure_referral_code

    ensure_referral_code(customer=customer)
    client.force_login(customer.user)
    return client


@pytest.fixture
def provider_client(client, provider):
    client.force_login(provider.user)
    return client


# --- Browser -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
        # While Playwright's event loop runs, asgiref (Django's connection storage) keeps
        # connections per context rather than per thread, so the tests after the first
        # browser test open a connection the session's teardown no longer sees: close it
        # here, or dropping the test database fails ("being accessed by other users").
        from django.db import connections

        connections.close_all()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def log_in(live_server):
    """log_in(page, email, password): logs in through the real login form."""

    def log_in(page, email, password="pw-for-tests"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()

    return log_in



# --- Email: a fake Resend API the real `resend` SDK talks to ---------------------------


@pytest.fixture
def fake_resend(settings):
    """A real HTTP server on 127.0.0.1 (random port) speaking Resend's email endpoints.

    Points the `resend` SDK and settings.RESEND_API_KEY / RESEND_API_URL at it, so
    retention.delivery sends through Resend. Yields the server: `.url`, `.emails`
    (accepted email dicts in order), `.requests` (time, path, idempotency_key,
    status), `.rate_limit` (requests per second, None = unlimited), and knobs
    `fail_next`, `rate_limit_next`, `slow_next`, `reject_next`. See
    tests/fake_resend.py.
    """
    import resend

    from tests.fake_resend import FakeResend

    server = FakeResend(api_key="re_fake_test_key").start()
    saved = resend.api_url, resend.api_key, resend.default_http_client
    resend.api_url, resend.api_key = server.url, server.api_key
    settings.RESEND_API_KEY = server.api_key
    settings.RESEND_API_URL = server.url
    try:
        yield server
    finally:
        resend.api_url, resend.api_key, resend.default_http_client = saved
        server.stop()

"""Every page, for every role, on a phone (390 px) and a laptop (1366 px): nothing
scrolls sideways and axe-core finds no violation of serious or critical impact.

A full-page screenshot of each is saved under test-results/screenshots/<role>-<width>/
for a person to look at (CI keeps test-results/ as an artifact). The pages come from
tests/browser/site_pages.py.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from .site_pages import pages_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}
LOGINS = {"customer": "demo@example.com", "provider": "provider@example.com", "staff": "admin@example.com"}
SERIOUS = {"serious", "critical"}


def serious_violations(page) -> list[str]:
    """axe-core's violations of serious or critical impact, one line each."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


def sideways_overflow(page) -> int:
    """How far the page scrolls sideways, in CSS pixels (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def give_the_demo_customer_a_scheduled_job():
    """The reschedule page and the job actions need a job ahead of the demo customer."""
    from actions.jobs import book_job, first_bookable_day
    from retention.models import Customer, Job, ServiceType

    demo = Customer.objects.get(user__email="demo@example.com")
    if not demo.jobs.filter(status=Job.Status.SCHEDULED).exists():
        service = ServiceType.objects.order_by("name").first()
        book_job(customer=demo, service_type=service, scheduled_for=first_bookable_day() + dt.timedelta(days=5))


def screenshot_name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:80] or "root"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["customer", "provider", "staff", "public"])
def test_every_page_fits_and_has_no_serious_accessibility_violation(live_server, browser, log_in, role, width):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    give_the_demo_customer_a_scheduled_job()
    viewport = WIDTHS[width]
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        is_mobile=width == "phone",
        has_touch=width == "phone",
        reduced_motion="reduce",
    )
    page = context.new_page()
    if role in LOGINS:
        log_in(page, LOGINS[role], "demo-password")
    folder = SCREENSHOTS / f"{role}-{viewport[0]}"
    folder.mkdir(parents=True, exist_ok=True)
    problems = []
    paths = pages_for(role)
    assert paths
    for path in paths:
        response = page.goto(f"{live_server.url}{path}", wait_until="load")
        if response is None or response.status >= 400:
            problems.append(f"{path}: answered {response and response.status}")
            continue
        page.screenshot(path=folder / f"{screenshot_name(path)}.png", full_page=True)
        if (overflow := sideways_overflow(page)) > 0:
            problems.append(f"{path}: scrolls sideways by {overflow}px at {viewport[0]}px")
        problems += [f"{path}: {line}" for line in serious_violations(page)]
    context.close()
    assert not problems, "\n".join(problems)

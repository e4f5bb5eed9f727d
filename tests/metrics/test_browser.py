"""A staff member opens the metrics page in Chromium and the charts are drawn."""

from pathlib import Path

import pytest

from tests.factories import UserFactory

from .conftest import ALL_DATA

SCREENSHOT = (
    Path(__file__).resolve().parents[2] / "test-results" / "metrics.png"
)  # and metrics.pdf, printed


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_see_the_charts_drawn(page, live_server, log_in, request):
    for data in ALL_DATA:
        request.getfixturevalue(data)
    UserFactory(email="stella@example.com", is_staff=True)
    log_in(page, "stella@example.com")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Retention metrics").click()
    page.get_by_role("link", name="Last 4 weeks").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Retention metrics", level=1).is_visible()

    # Churn: four lines, a dot per week on each, drawn with a real size.
    churn = page.locator('[data-chart="churn"] svg')
    assert churn.locator("polyline.line").count() == 4
    assert churn.locator("circle.dot").count() == 4 * 4
    box = churn.bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    assert churn.locator("circle.dot").first.bounding_box()["width"] > 0
    # Each dot sits as high as its value says (higher value, smaller y), and its
    # tooltip names the week and the number.
    active = churn.locator("g.series").first
    assert active.get_attribute("data-series") == "Active (under 30 days)"
    titles = active.locator("circle title").all_text_contents()
    assert titles[0].startswith("Active (under 30 days), week ending May 13: ")
    values = [int(title.rsplit(": ", 1)[1]) for title in titles]
    ys = [
        float(point.split(",")[1])
        for point in active.locator("polyline").get_attribute("points").split()
    ]
    for value_a, y_a in zip(values, ys):
        for value_b, y_b in zip(values, ys):
            assert (value_a > value_b) == (y_a < y_b)

    # Bars: one per non-zero value; the seasonal, win-back and booking counts over 4 weeks.
    marketing = page.locator('[data-chart="marketing"] svg rect.bar')
    assert marketing.count() == 4 + 2 + 4  # seasonal 4/3/2/5, win-back 2/0/3/0, bookings 3/1/1/2
    assert marketing.first.bounding_box()["height"] > 0
    assert page.locator('[data-chart="points"] svg polyline.line').count() == 2
    assert page.locator('[data-chart="tier-upgrades"] svg rect.bar').count() == 4
    assert page.locator('[data-chart="reminders"] svg rect.bar').count() == 4 + 3
    for chart in ("marketing", "reminders", "points", "tier-upgrades", "churn", "emails"):
        assert page.locator(f'[data-chart="{chart}"] svg .y-axis text').count() >= 2, chart

    # A failed last run stands out in red.
    failed = page.locator("td.status-failed")
    assert failed.text_content() == "failed"
    assert failed.evaluate("cell => getComputedStyle(cell).backgroundColor") == "rgb(180, 35, 24)"

    SCREENSHOT.parent.mkdir(exist_ok=True)
    # Printing hides the controls and keeps the charts; the printed PDF is kept too.
    page.emulate_media(media="print")
    assert page.locator(".metrics-controls").is_hidden()
    assert page.locator(".csv-link").first.is_hidden()
    assert churn.is_visible()
    page.pdf(path=str(SCREENSHOT.with_suffix(".pdf")), format="A4")
    page.emulate_media(media="screen")

    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
    assert SCREENSHOT.with_suffix(".pdf").stat().st_size > 10_000

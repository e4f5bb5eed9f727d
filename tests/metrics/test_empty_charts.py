"""A chart with nothing to draw says so in words instead of drawing empty axes."""

import re

import pytest

pytestmark = pytest.mark.django_db


def chart_figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'<figure class="metrics-chart" data-chart="([^"]+)">(.*?)</figure>', html, re.S))


def test_empty_charts_say_no_data_for_this_period(staff_client):
    figures = chart_figures(staff_client.get("/admin/metrics/?weeks=4").content.decode())
    assert figures
    for slug, figure in figures.items():
        assert "No data for this period." in figure, slug
        assert "<svg" not in figure, slug


def test_charts_with_data_are_drawn(campaign_data, staff_client):
    figures = chart_figures(staff_client.get("/admin/metrics/?weeks=4").content.decode())
    drawn = [slug for slug, figure in figures.items() if "<svg" in figure]
    assert drawn
    for slug in drawn:
        assert "No data for this period." not in figures[slug]

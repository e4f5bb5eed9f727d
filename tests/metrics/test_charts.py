"""The SVG chart geometry: axes with round ticks, bars and lines where the values say."""

import datetime as dt

import pytest

from metrics.charts import Series, bar_chart, line_chart, nice_ceiling

WEEKS = [dt.date(2026, 5, 13) + dt.timedelta(days=7 * i) for i in range(4)]


@pytest.mark.parametrize(
    ("value", "top", "step"),
    [(0, 1, 1), (1, 1, 1), (3, 3, 1), (7, 8, 2), (23, 25, 5), (99, 100, 20), (4_321, 5_000, 1_000)],
)
def test_the_axis_ends_on_a_round_number(value, top, step):
    assert nice_ceiling(value) == (top, step)


def test_a_line_chart_puts_each_week_at_its_value():
    chart = line_chart(
        slug="t", title="T", week_ends=WEEKS, series=[Series("A", [0, 5, 10, 5], "#000")]
    )
    (line,) = chart.lines
    ys = [y for _, y, _ in line.dots]
    assert ys[0] == chart.baseline  # zero sits on the axis
    assert ys[2] == chart.y_ticks[-1][0]  # the highest value reaches the top tick (10)
    assert ys[1] == ys[3] == (ys[0] + ys[2]) / 2
    xs = [x for x, _, _ in line.dots]
    assert xs == sorted(xs) and chart.plot_left < xs[0] and xs[-1] < chart.plot_right
    assert [label for _, label in chart.x_labels] == ["May 13", "May 20", "May 27", "Jun 3"]
    assert line.dots[1][2] == "A, week ending May 20: 5"


def test_stacked_bars_add_up_and_empty_values_draw_nothing():
    chart = bar_chart(
        slug="t",
        title="T",
        week_ends=WEEKS,
        series=[Series("A", [2, 0, 1, 0], "#111"), Series("B", [2, 0, 0, 0], "#222")],
    )
    assert len(chart.bars) == 3
    first_a, first_b = chart.bars[0], chart.bars[1]
    assert first_a.height == first_b.height  # 2 and 2
    assert first_b.y + first_b.height == first_a.y  # B sits on top of A
    assert first_b.y == chart.y_ticks[-1][0]  # the total, 4, is the top of the axis


def test_side_by_side_bars_share_the_week_slot():
    chart = bar_chart(
        slug="t",
        title="T",
        week_ends=WEEKS,
        stacked=False,
        series=[Series("A", [3, 3, 3, 3], "#111"), Series("B", [1, 1, 1, 1], "#222")],
    )
    a, b = chart.bars[0], chart.bars[1]
    assert a.x + a.width == pytest.approx(b.x)
    assert a.height == pytest.approx(3 * b.height, abs=0.2)


def test_a_year_of_weeks_gets_a_readable_number_of_labels():
    weeks = [dt.date(2025, 6, 11) + dt.timedelta(days=7 * i) for i in range(52)]
    chart = line_chart(slug="t", title="T", week_ends=weeks, series=[Series("A", [1] * 52, "#000")])
    assert len(chart.x_labels) <= 9
    assert chart.x_labels[-1][1] == "Jun 3"  # the current week always has its date

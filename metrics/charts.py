"""Weekly charts drawn as SVG on the server: the geometry here, the markup in
templates/metrics/_chart.html. No JavaScript and nothing fetched from elsewhere, so a
chart shows offline, prints as crisp vectors and is in the HTML a test reads.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 30  # room for the axis labels
MAX_X_LABELS = 8


@dataclass
class Series:
    name: str
    values: list[int | float]
    color: str


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str  # the native tooltip: "Series, week ending Nov 29: 12"


@dataclass
class Line:
    points: str  # for <polyline points="...">
    color: str
    name: str
    dots: list[tuple[float, float, str]] = field(default_factory=list)  # (cx, cy, title)


@dataclass
class Chart:
    slug: str
    title: str
    kind: str  # "line" or "bar"
    series: list[Series]
    width: int = WIDTH
    height: int = HEIGHT
    y_ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    x_labels: list[tuple[float, str]] = field(default_factory=list)  # (x, label)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def baseline(self) -> int:
        return self.height - BOTTOM

    @property
    def empty(self) -> bool:
        """Nothing happened in the period: every value of every series is zero (or none)."""
        return not any(value for series in self.series for value in series.values)

    @property
    def description(self) -> str:
        """What a screen reader hears: each series' total over the period."""
        return "; ".join(f"{s.name}: {format_number(sum(s.values))} in total" for s in self.series)


def format_number(value: int | float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def nice_ceiling(value: float) -> tuple[float, float]:
    """(top of the axis, tick step): a 1-2-5 step giving at most five ticks above zero."""
    if value <= 0:
        return 1, 1
    magnitude = 10 ** math.floor(math.log10(value / 5))
    for multiple in (1, 2, 5, 10):
        step = multiple * magnitude
        if value / step <= 5:
            break
    step = max(step, 1)  # counts: no fractional ticks
    return step * math.ceil(value / step), step


def _week_label(day: dt.date) -> str:
    return f"{day:%b} {day.day}"


def _frame(chart: Chart, week_ends: list[dt.date], top_value: float) -> tuple:
    """Sets the axes; returns (x of a week's slot start, slot width, y of a value)."""
    top, step = nice_ceiling(top_value)
    plot_height = chart.baseline - TOP
    slot = (chart.plot_right - chart.plot_left) / len(week_ends)

    def y_of(value: float) -> float:
        return round(chart.baseline - plot_height * value / top, 1)

    def x_of(index: int) -> float:
        return chart.plot_left + slot * index

    chart.y_ticks = [(y_of(step * i), format_number(step * i)) for i in range(int(top / step) + 1)]
    every = math.ceil(len(week_ends) / MAX_X_LABELS)
    # Label from the newest week back, so the current week always has its date.
    chart.x_labels = [
        (round(x_of(i) + slot / 2, 1), _week_label(week_ends[i]))
        for i in range(len(week_ends) - 1, -1, -every)
    ][::-1]
    return x_of, slot, y_of


def line_chart(*, slug: str, title: str, week_ends: list[dt.date], series: list[Series]) -> Chart:
    chart = Chart(slug=slug, title=title, kind="line", series=series)
    x_of, slot, y_of = _frame(
        chart, week_ends, max((max(s.values, default=0) for s in series), default=0)
    )
    for s in series:
        dots = [
            (
                round(x_of(i) + slot / 2, 1),
                y_of(v),
                f"{s.name}, week ending {_week_label(week_ends[i])}: {format_number(v)}",
            )
            for i, v in enumerate(s.values)
        ]
        chart.lines.append(
            Line(
                points=" ".join(f"{x},{y}" for x, y, _ in dots),
                color=s.color,
                name=s.name,
                dots=dots,
            )
        )
    return chart


def bar_chart(
    *, slug: str, title: str, week_ends: list[dt.date], series: list[Series], stacked: bool = True
) -> Chart:
    """Bars per week: stacked (parts of a whole) or side by side (to compare)."""
    chart = Chart(slug=slug, title=title, kind="bar", series=series)
    totals = [sum(values) for values in zip(*(s.values for s in series))] if series else []
    top_value = (
        max(totals, default=0)
        if stacked
        else max((max(s.values, default=0) for s in series), default=0)
    )
    x_of, slot, y_of = _frame(chart, week_ends, top_value)
    gap = slot * 0.2
    for week, week_end in enumerate(week_ends):
        below = 0
        for index, s in enumerate(series):
            value = s.values[week]
            if not value:
                continue
            if stacked:
                x, width, bottom, below = x_of(week) + gap / 2, slot - gap, below, below + value
            else:
                width = (slot - gap) / len(series)
                x, bottom = x_of(week) + gap / 2 + width * index, 0
            y_top, y_bottom = y_of(bottom + value), y_of(bottom)
            chart.bars.append(
                Bar(
                    x=round(x, 1),
                    y=y_top,
                    width=round(width, 1),
                    height=round(y_bottom - y_top, 1),
                    color=s.color,
                    title=f"{s.name}, week ending {_week_label(week_end)}: {format_number(value)}",
                )
            )
    return chart


# --- Intervals (the holdout lift) -------------------------------------------------------


@dataclass
class IntervalChart:
    """An estimate and its interval on a horizontal axis with zero marked: whether the
    interval crosses the zero line is what the reader needs to see."""

    slug: str
    title: str
    description: str  # what a screen reader hears
    width: int = WIDTH
    height: int = 64
    zero_x: float = 0
    low_x: float = 0
    high_x: float = 0
    estimate_x: float = 0
    y: float = 26
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, label)
    color: str = "#1f77b4"


def interval_chart(
    *, slug: str, title: str, estimate: float, low: float, high: float, unit: str = "pp", color: str = "#1f77b4"
) -> IntervalChart:
    """The axis spans the interval and zero, with a margin, in `unit` (pp: percentage
    points of a rate given as a fraction)."""
    scale = 100 if unit == "pp" else 1
    values = [v * scale for v in (estimate, low, high)]
    left_value, right_value = min(0.0, values[1]), max(0.0, values[2])
    span = (right_value - left_value) or 1.0
    left_value, right_value = left_value - span * 0.1, right_value + span * 0.1
    plot_left, plot_right = LEFT, WIDTH - RIGHT

    def x_of(value: float) -> float:
        return round(plot_left + (plot_right - plot_left) * (value - left_value) / (right_value - left_value), 1)

    def label(value: float) -> str:
        return f"{value:+.1f} pp" if unit == "pp" else f"{'-' if value < 0 else '+'}${abs(value):,.2f}"

    estimate_v, low_v, high_v = values
    return IntervalChart(
        slug=slug,
        title=title,
        description=f"{label(estimate_v)}, 95% interval {label(low_v)} to {label(high_v)}",
        zero_x=x_of(0),
        low_x=x_of(low_v),
        high_x=x_of(high_v),
        estimate_x=x_of(estimate_v),
        ticks=[(x_of(low_v), label(low_v)), (x_of(high_v), label(high_v))],
        color=color,
    )

"""The metrics page's building blocks: sections of charts and tables, and how a cell
is written to CSV.

A Table holds raw values (ints, Decimals, rates as fractions, datetimes); the page
formats them for people and the CSV export writes them for spreadsheets, so both
always show the same numbers.
"""

import datetime as dt
from dataclasses import dataclass, field

from .charts import Chart, Series
from .periods import Period

# Colours that stay apart in print and for the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, PURPLE, RED, YELLOW, GREY = (
    "#1f77b4",
    "#e8710a",
    "#1b9e4b",
    "#7b4fb3",
    "#c9302c",
    "#c9a100",
    "#6b7280",
)


@dataclass
class Column:
    name: str
    kind: str = "int"  # text, int, money, percent, datetime, date, status


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[list]
    total: list | None = None  # an optional last row, set apart
    weekly: bool = False  # one row per week: folded away on screen, in full in CSV

    @property
    def body(self) -> list[list[tuple]]:
        """Rows as (value, kind) cells, for the template."""
        return [self._cells(row) for row in self.rows]

    @property
    def footer(self) -> list[tuple] | None:
        return self._cells(self.total) if self.total else None

    def _cells(self, row: list) -> list[tuple]:
        return [(value, column.kind) for value, column in zip(row, self.columns)]

    @property
    def csv_rows(self) -> list[list]:
        return self.rows + ([self.total] if self.total else [])


@dataclass
class Section:
    slug: str
    title: str
    intro: str
    figures: list[tuple[str, str]] = field(default_factory=list)  # headline (label, value)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    note: str = ""
    # A section's own markup, shown before its tables, given `section` and `parts`.
    template: str = ""
    parts: list = field(default_factory=list)


def _weekly_table(slug: str, title: str, period: Period, series: list[Series]) -> Table:
    columns = [Column("Week ending", "date")] + [Column(s.name) for s in series]
    rows = [
        [week_end] + [s.values[i] for s in series] for i, week_end in enumerate(period.week_ends)
    ]
    return Table(slug=slug, title=title, columns=columns, rows=rows, weekly=True)


def format_percent(rate: float | None) -> str:
    if rate is None:
        return "–"
    return f"{rate * 100:.1f}".removesuffix(".0") + "%"


def csv_value(value, kind: str) -> str:
    """A cell as a spreadsheet reads it: plain numbers, rates as percentages, ISO dates."""
    if value is None:
        return ""
    if kind == "percent":
        return f"{value * 100:.1f}"
    if kind == "money":
        return f"{value:.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)

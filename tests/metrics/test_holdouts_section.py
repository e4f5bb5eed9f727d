"""The holdout section of /admin/metrics/: both groups side by side, the lift drawn as
an interval, the explanation, CSV."""

import csv
import io
import re

from experiments.selectors import holdout_comparisons
from metrics.periods import Period

from .conftest import TODAY


def test_the_section_shows_both_groups_and_the_lift_as_an_interval(staff_client, holdout_data):
    html = staff_client.get("/admin/metrics/?weeks=4").content.decode()
    section = html[html.index('id="holdouts"') :]
    assert "A holdout is a control group" in section and "95% interval" in section
    fall = section[section.index('data-holdout="seasonal-') :]
    assert "Fall Tune-up (fall 2026)" in fall
    # Side by side: customers 30 and 10, booked 9 and 1.
    assert re.search(r"Customers</th><td class=\"num\">30</td><td class=\"num\">10</td>", fall)
    assert re.search(r"Booked within 30 days</th><td class=\"num\">9</td><td class=\"num\">1</td>", fall)
    # The lift (30% - 10% = +20 pp) drawn: an interval line, its ends, and the zero line.
    svg = fall[fall.index("<svg") : fall.index("</svg>")]
    assert 'class="interval"' in svg and 'class="zero"' in svg and 'class="estimate"' in svg
    assert "+20.0 pp" in svg
    # On May 11 + 30 days = June 10 the window is still open (today is June 3).
    assert "Not conclusive yet: the customers of the last run have their 30 days until Jun 10, 2026." in fall
    assert "Win-back, May 2026" in section


def test_the_interval_is_drawn_where_its_numbers_are(holdout_data, db):
    (c, *_rest) = holdout_comparisons(Period.last(4, today=TODAY).start, TODAY, today=TODAY)
    from metrics.charts import interval_chart

    chart = interval_chart(slug="x", title="x", estimate=c.lift.estimate, low=c.lift.low, high=c.lift.high)
    assert chart.low_x < chart.estimate_x < chart.high_x
    assert (chart.zero_x < chart.low_x) == (c.lift.low > 0)


def test_the_csv_has_one_row_per_comparison(staff_client, holdout_data):
    response = staff_client.get("/admin/metrics/holdouts.csv?weeks=4")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, fall = rows[0], next(r for r in rows if r[0].startswith("🍂"))
    row = dict(zip(header, fall))
    assert (row["Mailed customers"], row["Mailed who booked"], row["Held-out customers"]) == ("30", "9", "10")
    assert row["Lift (%)"] == "20.0" and row["Conclusive"] == "not yet"
    assert row["Revenue per mailed customer"] == "24.00" and row["Revenue per held-out customer"] == "8.00"
    assert row["Incremental bookings"] == "6.0"
    assert len(rows) == 3  # the header, fall, win-back

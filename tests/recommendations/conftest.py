import datetime as dt
import zoneinfo

import pytest
import time_machine

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
TODAY = dt.date(2026, 7, 15)  # a Wednesday in July: the summer campaign's months


@pytest.fixture(autouse=True)
def july(settings):
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(
        dt.datetime(2026, 7, 15, 12, tzinfo=NEW_YORK), tick=False
    ) as traveller:
        yield traveller

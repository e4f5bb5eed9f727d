"""The staff metrics page filters reminders and win-back sends by a period of sent_at:
each table has an index PostgreSQL can use for that range."""

import datetime as dt

import pytest
from django.db import connection, transaction

from reminders.models import ServiceReminder, WinbackSend

PERIOD = (dt.datetime(2026, 5, 1, tzinfo=dt.UTC), dt.datetime(2026, 6, 1, tzinfo=dt.UTC))


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "index"), [(ServiceReminder, "reminder_sent"), (WinbackSend, "winback_sent")])
def test_a_period_of_sent_at_is_read_through_its_index(model, index):
    in_period = model.objects.filter(sent_at__gte=PERIOD[0], sent_at__lt=PERIOD[1])
    with transaction.atomic(), connection.cursor() as cursor:
        # The tables are empty here; without this PostgreSQL would scan them whole.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = in_period.explain()
    assert index in plan

"""Each outbox row records the business day it was queued for (`as_of`), and the
marketing cap counts by it: existing rows get the business day of their created_at."""

from django.conf import settings
from django.db import migrations, models

import retention.clock


def backfill_as_of(apps, schema_editor):
    OutboundEmail = apps.get_model("outbox", "OutboundEmail")
    table = schema_editor.quote_name(OutboundEmail._meta.db_table)
    schema_editor.execute(
        f"UPDATE {table} SET as_of = (created_at AT TIME ZONE %s)::date", [settings.TIME_ZONE]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundemail",
            name="as_of",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(backfill_as_of, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="outboundemail",
            name="as_of",
            field=models.DateField(default=retention.clock.business_today),
        ),
        migrations.RemoveIndex(
            model_name="outboundemail",
            name="outbox_customer_kind",
        ),
        migrations.AddIndex(
            model_name="outboundemail",
            index=models.Index(
                condition=models.Q(("kind", "marketing")),
                fields=["customer", "as_of"],
                name="outbox_marketing_as_of",
            ),
        ),
    ]

"""OutboundEmail now belongs to the outbox app (outbox/migrations/0001_initial.py):
Django forgets it here; the table is untouched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("retention", "0003_metrics_indexes"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="OutboundEmail")]),
    ]

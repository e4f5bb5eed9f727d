"""The outbox model moves from the core app to its own: the table stays as it was
(`retention_outboundemail`), so this changes Django's state only, and staff permissions
and admin history follow the model to its new app."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def _relabel(apps, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=old, model="outboundemail").update(app_label=new)


def move_content_type(apps, schema_editor):
    _relabel(apps, "retention", "outbox")


def move_content_type_back(apps, schema_editor):
    _relabel(apps, "outbox", "retention")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('retention', '0003_metrics_indexes'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='OutboundEmail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('idempotency_key', models.CharField(help_text='<kind>/<id>', max_length=200, unique=True)),
                ('template', models.CharField(help_text='templates/emails/<template>/', max_length=100)),
                ('kind', models.CharField(choices=[('marketing', 'Marketing'), ('reminder', 'Service reminder'), ('transactional', 'Transactional')], max_length=15)),
                ('to_email', models.EmailField(max_length=254)),
                ('subject', models.CharField(max_length=300)),
                ('text_body', models.TextField()),
                ('html_body', models.TextField()),
                ('headers', models.JSONField(blank=True, default=dict)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending (claimed into a batch)'), ('sent', 'Sent'), ('failed', 'Failed'), ('suppressed', 'Suppressed (consent withdrawn)')], default='pending', max_length=10)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('last_error', models.TextField(blank=True)),
                ('provider_message_id', models.CharField(blank=True, max_length=200)),
                ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('batch_key', models.CharField(blank=True, max_length=80)),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('customer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='emails', to='retention.customer')),
            ],
            options={
                'db_table': 'retention_outboundemail',
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['created_at'], name='outbox_created'), models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at', 'id'], name='outbox_pending'), models.Index(fields=['customer', 'kind', '-created_at'], name='outbox_customer_kind'), models.Index(condition=models.Q(('status', 'sending')), fields=['next_attempt_at', 'batch_key'], name='outbox_sending'), models.Index(condition=models.Q(('batch_key', ''), _negated=True), fields=['batch_key'], name='outbox_batch_key')],
            },
        )]),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]

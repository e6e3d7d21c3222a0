from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('workflows', '0002_runs')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WorkflowSchedule',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('workflow', fields.ForeignKeyField('workflows.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='schedules', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.UUIDField()),
                ('cron', fields.CharField(description='5-field cron, aliases expanded.', max_length=120)),
                ('timezone', fields.CharField(max_length=64)),
                ('overlap', fields.CharField(default='skip', description='skip | allow | queue_one', max_length=16)),
                ('missed', fields.CharField(default='run_once', description='skip | run_once | catch_up', max_length=16)),
                ('catch_up_limit', fields.IntField(default=10)),
                ('input_json', fields.TextField(null=True, description="The runs' input, as JSON text.", unique=False)),
                ('paused', fields.BooleanField(default=False)),
                ('starts_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_fire_at', fields.DatetimeField(description="UTC; the dispatcher's index.", auto_now=False, auto_now_add=False)),
                ('last_fire_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_run_id', fields.UUIDField(null=True, description='The latest run it started: what overlap looks at.')),
                ('missed_count', fields.IntField(default=0, description='Fire times dropped by the missed-fire policy.')),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'workflow_schedules', 'app': 'workflows', 'pk_attr': 'id', 'table_description': 'A cron schedule of a workflow: fires in its time zone, the next fire time kept in UTC.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScheduleFire',
            fields=[
                ('id', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('schedule', fields.ForeignKeyField('workflows.WorkflowSchedule', source_field='schedule_id', db_constraint=True, to_field='id', related_name='fires', on_delete=OnDelete.CASCADE)),
                ('fire_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('run_id', fields.UUIDField(null=True)),
                ('outcome', fields.CharField(description='started | skipped | queued', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'workflow_schedule_fires', 'app': 'workflows', 'unique_together': (('schedule', 'fire_time'),), 'pk_attr': 'id', 'table_description': 'One fire time of a schedule, claimed once: unique (schedule, fire time), written with the run it starts.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookTrigger',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('workflow', fields.OneToOneField('workflows.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='webhook', on_delete=OnDelete.CASCADE)),
                ('token', fields.CharField(max_length=64, unique=True)),
                ('secret_encrypted', fields.TextField(null=True, unique=False)),
                ('previous_secret_encrypted', fields.TextField(null=True, unique=False)),
                ('previous_valid_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rotated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'workflow_webhooks', 'app': 'workflows', 'pk_attr': 'id', 'table_description': "A workflow's inbound webhook: its URL token and signing secrets (encrypted; the previous one while rotating)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('webhook', fields.ForeignKeyField('workflows.WebhookTrigger', source_field='webhook_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('message_id', fields.CharField(max_length=255)),
                ('run_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'workflow_webhook_deliveries', 'app': 'workflows', 'unique_together': (('webhook', 'message_id'),), 'pk_attr': 'id', 'table_description': 'A verified delivery, by its `webhook-id`: a second delivery with the same id starts nothing.'},
            bases=['Model'],
        ),
        # The dispatcher's scan: schedules due now that are not paused, oldest first.
        ops.RunSQL(
            [
                "CREATE INDEX workflow_schedules_due ON workflow_schedules (next_fire_at) WHERE NOT paused",
                "CREATE INDEX workflow_schedule_fires_queued ON workflow_schedule_fires (schedule_id) WHERE outcome = 'queued'",
            ],
            reverse_sql=["DROP INDEX IF EXISTS workflow_schedules_due", "DROP INDEX IF EXISTS workflow_schedule_fires_queued"],
        ),
    ]

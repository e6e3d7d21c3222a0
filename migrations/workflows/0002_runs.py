from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('workflows', '0001_workflows')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WorkflowRun',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('workflow', fields.ForeignKeyField('workflows.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='runs', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField(description='The version the run started with and finishes on.')),
                ('status', fields.CharField(default='pending', db_index=True, max_length=20)),
                ('trigger', fields.CharField(default='manual', max_length=16)),
                ('input', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('output', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('acting_user_id', fields.UUIDField(description='Whose permissions the steps run with.')),
                ('started_by', fields.UUIDField(null=True)),
                ('parent_step_id', fields.UUIDField(null=True, description='The subworkflow step waiting for this run.')),
                ('open_steps', fields.IntField(default=0, description='Steps not yet completed, failed or skipped.')),
                ('idempotency_key', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'workflow_runs', 'app': 'workflows', 'unique_together': (('workflow', 'idempotency_key'),), 'pk_attr': 'id', 'table_description': 'One run of one version of a workflow; its steps are the journal (`WorkflowStep`).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkflowStep',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('run', fields.ForeignKeyField('workflows.WorkflowRun', source_field='run_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.CASCADE)),
                ('node_id', fields.CharField(max_length=100)),
                ('iteration', fields.IntField(default=0)),
                ('node_type', fields.CharField(max_length=16)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('waiting_for', fields.CharField(null=True, max_length=16)),
                ('remaining', fields.IntField(default=0, description='Incoming edges not yet resolved.')),
                ('taken', fields.IntField(default=0, description='Incoming edges resolved as taken.')),
                ('need', fields.IntField(default=1, description='Taken edges needed to be ready.')),
                ('wait_all', fields.BooleanField(default=True, description='Ready only once every incoming edge is resolved.')),
                ('ready_at', fields.DatetimeField(null=True, description='When it was queued.', auto_now=False, auto_now_add=False)),
                ('resume_at', fields.DatetimeField(null=True, description="A delay's or a retry's due time.", auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attempt', fields.IntField(default=0)),
                ('attempts', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('input', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('output', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('branch', fields.CharField(null=True, description='The branch taken (the `when` of its edges).', max_length=40)),
                ('state', fields.JSONField(null=True, description='What a parked step resumes with.', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('approval_id', fields.UUIDField(null=True)),
                ('child_run_id', fields.UUIDField(null=True)),
                ('waited_seconds', fields.FloatField(default=0, description='Time spent waiting for people.')),
                ('lease_owner', fields.CharField(null=True, max_length=128)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'workflow_steps', 'app': 'workflows', 'unique_together': (('run', 'node_id', 'iteration'),), 'pk_attr': 'id', 'table_description': 'The journal row of one (run, node, iteration): moved by conditional updates, so each runs once.'},
            bases=['Model'],
        ),
        # the watchdog's scans and the per-workflow run limit read only the active rows
        ops.RunSQL(
            [
                "CREATE INDEX workflow_steps_active ON workflow_steps (status, lease_until) "
                "WHERE status IN ('pending', 'running', 'waiting')",
                "CREATE INDEX workflow_runs_active ON workflow_runs (org_id, workflow_id) "
                "WHERE status IN ('pending', 'running', 'awaiting_approval')",
                "CREATE INDEX workflow_runs_listing ON workflow_runs (workflow_id, created_at DESC)",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS workflow_steps_active",
                "DROP INDEX IF EXISTS workflow_runs_active",
                "DROP INDEX IF EXISTS workflow_runs_listing",
            ],
        ),
    ]

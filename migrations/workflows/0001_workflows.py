from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Workflow',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('owner_id', fields.UUIDField(description='The user schedules and webhooks run as.')),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('status', fields.CharField(default='draft', db_index=True, max_length=16)),
                ('version', fields.IntField(default=1, description="The latest version's number.")),
                ('trigger_kind', fields.CharField(default='manual', max_length=16)),
                ('consecutive_failures', fields.IntField(default=0)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'workflows', 'app': 'workflows', 'pk_attr': 'id', 'table_description': 'A workflow of an org: its current version number and status; the definitions live in versions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkflowVersion',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('workflows.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('version', fields.IntField()),
                ('definition', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('change_summary', fields.TextField(default='', unique=False)),
                ('author_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'workflow_versions', 'app': 'workflows', 'unique_together': (('workflow', 'version'),), 'pk_attr': 'id', 'table_description': 'One save of a workflow, never changed afterwards: a run finishes on the version it started with.'},
            bases=['Model'],
        ),
    ]

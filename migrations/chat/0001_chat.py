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
            name='Approval',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('user_id', fields.UUIDField(db_index=True)),
                ('kind', fields.CharField(default='tool', max_length=16)),
                ('task_id', fields.UUIDField(db_index=True)),
                ('call_id', fields.CharField(max_length=128)),
                ('agent', fields.CharField(max_length=64)),
                ('tool', fields.CharField(max_length=64)),
                ('arguments', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('summary', fields.TextField(default='', unique=False)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('decided_by', fields.UUIDField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'approvals', 'app': 'chat', 'unique_together': (('task_id', 'call_id'),), 'pk_attr': 'id', 'table_description': "A person's decision a task waits for: a tool confirmation (or, later, a workflow step)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('user_id', fields.UUIDField(db_index=True)),
                ('title', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'conversations', 'app': 'chat', 'pk_attr': 'id', 'table_description': 'A thread of messages between a user and the agents.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChatTask',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('user_id', fields.UUIDField(db_index=True)),
                ('conversation', fields.ForeignKeyField('chat.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('question', fields.TextField(unique=False)),
                ('mode', fields.CharField(default='auto', max_length=16)),
                ('resolved_mode', fields.CharField(null=True, max_length=16)),
                ('status', fields.CharField(default='queued', db_index=True, max_length=24)),
                ('response', fields.TextField(default='', unique=False)),
                ('citations', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('error', fields.TextField(null=True, unique=False)),
                ('cancel_requested', fields.BooleanField(default=False)),
                ('attempts', fields.IntField(default=0)),
                ('lease_owner', fields.CharField(null=True, max_length=128)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'chat_tasks', 'app': 'chat', 'pk_attr': 'id', 'table_description': 'One question being answered: its mode, status, progress state and final answer.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Memory',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('user_id', fields.UUIDField(db_index=True)),
                ('category', fields.CharField(default='memories', max_length=16)),
                ('content', fields.TextField(unique=False)),
                ('importance', fields.FloatField(default=0.5)),
                ('source_conversation_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'memories', 'app': 'chat', 'pk_attr': 'id', 'table_description': "Something Switchboard remembers about a user, recalled into the planner's context."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('chat.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(max_length=16)),
                ('content', fields.TextField(unique=False)),
                ('citations', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('task_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'messages', 'app': 'chat', 'pk_attr': 'id', 'table_description': 'One message of a conversation; an assistant message carries its citations.'},
            bases=['Model'],
        ),
        # One active task per user, enforced by the database so two requests at once cannot both start one.
        ops.RunSQL(
            "CREATE UNIQUE INDEX chat_tasks_one_active_per_user ON chat_tasks (user_id) "
            "WHERE status IN ('queued', 'processing', 'awaiting_approval')",
            reverse_sql="DROP INDEX IF EXISTS chat_tasks_one_active_per_user",
        ),
    ]

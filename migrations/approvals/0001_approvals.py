from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    initial = True

    # chat's tool confirmations move here before chat drops its table (chat 0003)
    dependencies = [("chat", "0002_memory_unique")]

    operations = [
        ops.CreateModel(
            name='Approval',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('subject_id', fields.UUIDField(db_index=True)),
                ('key', fields.CharField(max_length=200)),
                ('title', fields.CharField(max_length=500)),
                ('context', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('requested_by', fields.UUIDField(null=True)),
                ('approvers', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('mode', fields.CharField(default='any', max_length=8)),
                ('quorum', fields.IntField(null=True)),
                ('required', fields.IntField(default=1)),
                ('approvals', fields.IntField(default=0)),
                ('allow_self_approval', fields.BooleanField(default=False)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('link', fields.CharField(default='', max_length=500)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resume_claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resumed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'approval_requests', 'app': 'approvals', 'unique_together': (('kind', 'subject_id', 'key'),), 'pk_attr': 'id', 'table_description': 'A yes or no that a chat task or a workflow run waits for, and who may give it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApprovalDecision',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('approval', fields.ForeignKeyField('approvals.Approval', source_field='approval_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.CASCADE)),
                ('user_id', fields.UUIDField()),
                ('verdict', fields.CharField(max_length=8)),
                ('comment', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'approval_decisions', 'app': 'approvals', 'unique_together': (('approval', 'user_id'),), 'pk_attr': 'id', 'table_description': "One person's approve or reject, with their comment; a person decides an approval once."},
            bases=['Model'],
        ),
        # chat's confirmations, as they were: the task's user approves their own tool calls
        ops.RunSQL(
            [
                "INSERT INTO approval_requests (id, org_id, kind, subject_id, key, title, context, requested_by, "
                "approvers, mode, quorum, required, approvals, allow_self_approval, status, link, expires_at, "
                "created_at, decided_at, resume_claimed_at, resumed_at) "
                "SELECT a.id, a.org_id, 'tool_call', a.task_id, a.call_id, 'Run ' || a.tool, "
                "jsonb_build_object('agent', a.agent, 'tool', a.tool, 'arguments', a.arguments, "
                "'summary', a.summary, 'task_id', a.task_id::text), a.user_id, "
                "jsonb_build_object('users', jsonb_build_array(a.user_id::text), 'groups', '[]'::jsonb, "
                "'roles', '[]'::jsonb), 'any', NULL, 1, CASE WHEN a.status = 'approved' THEN 1 ELSE 0 END, true, "
                "a.status, coalesce('/chat?c=' || t.conversation_id::text, '/chat'), a.expires_at, a.created_at, "
                "a.decided_at, a.decided_at, a.decided_at "
                "FROM approvals a LEFT JOIN chat_tasks t ON t.id = a.task_id",
                "INSERT INTO approval_decisions (id, approval_id, user_id, verdict, comment, created_at) "
                "SELECT gen_random_uuid(), a.id, a.decided_by, "
                "CASE WHEN a.status = 'approved' THEN 'approve' ELSE 'reject' END, NULL, a.decided_at "
                "FROM approvals a WHERE a.decided_by IS NOT NULL AND a.status IN ('approved', 'rejected')",
            ],
            reverse_sql=["DELETE FROM approval_requests WHERE kind = 'tool_call'"],
        ),
    ]

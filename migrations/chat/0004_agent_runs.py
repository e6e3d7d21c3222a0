from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    # direct agent runs are chat tasks bound to one agent; their conversation is marked with it too
    dependencies = [("chat", "0003_approvals_moved")]

    initial = False

    operations = [
        ops.AddField(
            model_name='ChatTask',
            name='agent',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Conversation',
            name='agent',
            field=fields.CharField(null=True, max_length=64),
        ),
        # One active chat task per user as before (agent runs aside), and one active run per user and agent.
        ops.RunSQL(
            [
                "DROP INDEX IF EXISTS chat_tasks_one_active_per_user",
                "CREATE UNIQUE INDEX chat_tasks_one_active_per_user ON chat_tasks (user_id) "
                "WHERE agent IS NULL AND status IN ('queued', 'processing', 'awaiting_approval')",
                "CREATE UNIQUE INDEX chat_tasks_one_active_run_per_agent ON chat_tasks (user_id, agent) "
                "WHERE agent IS NOT NULL AND status IN ('queued', 'processing', 'awaiting_approval')",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS chat_tasks_one_active_run_per_agent",
                "DROP INDEX IF EXISTS chat_tasks_one_active_per_user",
                "CREATE UNIQUE INDEX chat_tasks_one_active_per_user ON chat_tasks (user_id) "
                "WHERE status IN ('queued', 'processing', 'awaiting_approval')",
            ],
        ),
    ]

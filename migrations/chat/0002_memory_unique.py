from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_chat")]

    initial = False

    # One memory per user, org and text: two jobs remembering the same thing at once keep one row.
    operations = [
        ops.RunSQL(
            [
                "DELETE FROM memories m USING memories keep WHERE m.user_id = keep.user_id AND m.org_id = keep.org_id "
                "AND m.content = keep.content AND (m.importance, m.id) < (keep.importance, keep.id)",
                "CREATE UNIQUE INDEX memories_user_org_content ON memories (user_id, org_id, md5(content))",
            ],
            reverse_sql=["DROP INDEX IF EXISTS memories_user_org_content"],
        ),
    ]

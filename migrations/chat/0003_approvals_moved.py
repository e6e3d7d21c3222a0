from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    # the inbox now lives in the approvals app, which copied these rows first
    dependencies = [("chat", "0002_memory_unique"), ("approvals", "0001_approvals")]

    initial = False

    operations = [
        ops.DeleteModel(name='Approval'),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('agents', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UsageRecord',
            fields=[
                ('id', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('org_id', fields.UUIDField()),
                ('user_id', fields.UUIDField()),
                ('subject_type', fields.CharField(max_length=16)),
                ('subject_id', fields.CharField(max_length=64)),
                ('model', fields.CharField(max_length=200)),
                ('prompt_tokens', fields.IntField(default=0)),
                ('completion_tokens', fields.IntField(default=0)),
                ('total_tokens', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'usage_records', 'app': 'agents', 'indexes': (('subject_type', 'subject_id'), ('org_id', 'created_at')), 'pk_attr': 'id', 'table_description': 'Tokens one model completion spent, for whom and for what (a chat task, a workflow step, a direct call).'},
            bases=['Model'],
        ),
    ]

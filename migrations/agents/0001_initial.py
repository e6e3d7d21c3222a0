from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('platform', '0002_identity')]

    initial = True

    operations = [
        ops.CreateModel(
            name='AgentPolicy',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tier', fields.CharField(db_index=True, max_length=16)),
                ('scope', fields.CharField(max_length=120)),
                ('org', fields.ForeignKeyField('platform.Org', source_field='org_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('group', fields.ForeignKeyField('platform.Group', source_field='group_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('agent', fields.CharField(max_length=64)),
                ('access', fields.CharField(default='inherit', max_length=8)),
                ('tools', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('confirm', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_by_id', fields.UUIDField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'agent_policies', 'app': 'agents', 'unique_together': (('scope', 'agent'),), 'pk_attr': 'id', 'table_description': "One tier's settings for one agent: access to the agent, access per tool, confirmation per tool."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ModelSettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('owner', fields.CharField(unique=True, max_length=120)),
                ('org', fields.ForeignKeyField('platform.Org', source_field='org_id', db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharField(max_length=32)),
                ('base_url', fields.CharField(max_length=500)),
                ('chat_model', fields.CharField(max_length=200)),
                ('embedding_model', fields.CharField(null=True, max_length=200)),
                ('api_key_encrypted', fields.TextField(null=True, unique=False)),
                ('api_key_hint', fields.CharField(null=True, max_length=16)),
                ('validated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'model_settings', 'app': 'agents', 'pk_attr': 'id', 'table_description': 'A model endpoint a user (or a whole org) brings: provider, URL, models and an encrypted API key.'},
            bases=['Model'],
        ),
    ]

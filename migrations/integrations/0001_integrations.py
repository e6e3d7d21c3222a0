from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ChatSetting',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField()),
                ('service', fields.CharField(max_length=32)),
                ('enabled', fields.BooleanField(default=False)),
                ('default_agent', fields.CharField(null=True, max_length=64)),
                ('channels', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'integration_chat_settings', 'app': 'integrations', 'unique_together': (('org_id', 'service'),), 'pk_attr': 'id', 'table_description': 'Which channels of a chat service reach which agent, per org.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Connection',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('user_id', fields.UUIDField(null=True, db_index=True)),
                ('connector', fields.CharField(max_length=32)),
                ('auth', fields.CharField(max_length=16)),
                ('account', fields.CharField(default='', max_length=200)),
                ('settings', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secret', fields.TextField(unique=False)),
                ('status', fields.CharField(default='active', max_length=16)),
                ('status_message', fields.CharField(default='', max_length=500)),
                ('token_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'integration_connections', 'app': 'integrations', 'pk_attr': 'id', 'table_description': "A user's (or, with no user, the org's) account at a provider; its credentials only ever encrypted."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OAuthState',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('state_hash', fields.CharField(unique=True, max_length=64)),
                ('org_id', fields.UUIDField()),
                ('user_id', fields.UUIDField()),
                ('connector', fields.CharField(max_length=32)),
                ('org_wide', fields.BooleanField(default=False)),
                ('settings', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('verifier', fields.TextField(unique=False)),
                ('redirect_uri', fields.CharField(max_length=1000)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'integration_oauth_states', 'app': 'integrations', 'pk_attr': 'id', 'table_description': 'An OAuth sign-in in flight: its `state` (hashed), the PKCE verifier (encrypted) and who started it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserMapping',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('service', fields.CharField(max_length=32)),
                ('external_id', fields.CharField(max_length=200)),
                ('external_name', fields.CharField(default='', max_length=200)),
                ('user_id', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'integration_user_mappings', 'app': 'integrations', 'unique_together': (('org_id', 'service', 'external_id'),), 'pk_attr': 'id', 'table_description': 'Which provider account is which Switchboard user, per org.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WriteLedger',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField()),
                ('key', fields.CharField(max_length=200)),
                ('tool', fields.CharField(max_length=64)),
                ('status', fields.CharField(default='started', max_length=16)),
                ('result', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'integration_write_ledger', 'app': 'integrations', 'unique_together': (('key', 'tool'),), 'pk_attr': 'id', 'table_description': "One row per (idempotency key, tool): a retried workflow step's write happens once."},
            bases=['Model'],
        ),
    ]

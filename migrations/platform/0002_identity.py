from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('platform', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditLog',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(null=True, db_index=True)),
                ('actor_id', fields.UUIDField(null=True, db_index=True)),
                ('actor_email', fields.CharField(null=True, max_length=320)),
                ('action', fields.CharField(db_index=True, max_length=64)),
                ('target_type', fields.CharField(null=True, max_length=64)),
                ('target_id', fields.CharField(null=True, max_length=64)),
                ('outcome', fields.CharField(default='success', max_length=16)),
                ('ip', fields.CharField(null=True, max_length=64)),
                ('correlation_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_logs', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'One audited action.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Org',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('personal', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'orgs', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'A tenant: everything in Switchboard belongs to one.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Group',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org', fields.ForeignKeyField('platform.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='groups', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'groups', 'app': 'platform', 'unique_together': (('org', 'name'),), 'pk_attr': 'id', 'table_description': "A named set of an org's members, used to grant or deny agents and tools."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMail',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('to', fields.CharField(max_length=320)),
                ('subject', fields.CharField(max_length=300)),
                ('body', fields.TextField(unique=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'outbox_mail', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'Mail that was sent, or is waiting for an SMTP server; never silently dropped.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=320)),
                ('name', fields.CharField(default='', max_length=200)),
                ('password_hash', fields.CharField(max_length=200)),
                ('email_verified', fields.BooleanField(default=False)),
                ('is_superadmin', fields.BooleanField(default=False)),
                ('active_org', fields.ForeignKeyField('platform.Org', source_field='active_org_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.SET_NULL)),
                ('settings', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('token_version', fields.IntField(default=0)),
                ('delete_requested_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'users', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'A person who signs in.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('org', fields.ForeignKeyField('platform.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('prefix', fields.CharField(max_length=16)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'api_keys', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'A long-lived credential for scripts; only its hash is stored.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupMember',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('group', fields.ForeignKeyField('platform.Group', source_field='group_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name='group_memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(default='member', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'group_members', 'app': 'platform', 'unique_together': (('group', 'user'),), 'pk_attr': 'id', 'table_description': 'One membership of a user in a group (one per group).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org', fields.ForeignKeyField('platform.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('email', fields.CharField(max_length=320)),
                ('role', fields.CharField(default='member', max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('invited_by', fields.ForeignKeyField('platform.User', source_field='invited_by_id', null=True, db_constraint=True, to_field='id', on_delete=OnDelete.SET_NULL)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'invitations', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'An offer to join an org with a role; the raw token only ever goes to the invitee.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org', fields.ForeignKeyField('platform.Org', source_field='org_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(default='member', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'memberships', 'app': 'platform', 'unique_together': (('org', 'user'),), 'pk_attr': 'id', 'table_description': "A user's role in an org."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OneTimeToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name='one_time_tokens', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharField(max_length=32)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'one_time_tokens', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'Email verification and password reset tokens: expiring, single use, stored hashed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('platform.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('session_token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sessions', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'One sign-in: the browser session cookie and the refresh-token family hang off it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('session', fields.ForeignKeyField('platform.Session', source_field='session_id', db_constraint=True, to_field='id', related_name='refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'refresh_tokens', 'app': 'platform', 'pk_attr': 'id', 'table_description': 'One refresh token of a session; used once, then replaced.'},
            bases=['Model'],
        ),
    ]

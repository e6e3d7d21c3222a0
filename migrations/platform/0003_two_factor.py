from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('platform', '0002_identity')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='recovery_code_hashes',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='User',
            name='totp_enabled',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='User',
            name='totp_secret_encrypted',
            field=fields.TextField(null=True, unique=False),
        ),
    ]

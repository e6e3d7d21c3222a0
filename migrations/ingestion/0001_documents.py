from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Collection',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('owner_id', fields.UUIDField(null=True, db_index=True)),
                ('scope', fields.CharField(default='personal', max_length=16)),
                ('owner_key', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('is_default', fields.BooleanField(default=False)),
                ('include_in_research', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'collections', 'app': 'ingestion', 'unique_together': (('org_id', 'owner_key', 'name'),), 'pk_attr': 'id', 'table_description': "A set of documents: a user's own (personal) or the org's (managed by admins, read by all members)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Document',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('org_id', fields.UUIDField(db_index=True)),
                ('collection', fields.ForeignKeyField('ingestion.Collection', source_field='collection_id', db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.RESTRICT)),
                ('uploaded_by', fields.UUIDField(db_index=True)),
                ('name', fields.CharField(max_length=300)),
                ('kind', fields.CharField(max_length=8)),
                ('content_type', fields.CharField(max_length=128)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('storage_key', fields.CharField(max_length=300)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=16)),
                ('progress', fields.FloatField(default=0.0)),
                ('error', fields.TextField(null=True, unique=False)),
                ('chunk_count', fields.IntField(default=0)),
                ('page_count', fields.IntField(null=True)),
                ('attempts', fields.IntField(default=0)),
                ('lease_owner', fields.CharField(null=True, max_length=128)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'documents', 'app': 'ingestion', 'unique_together': (('collection_id', 'sha256'),), 'pk_attr': 'id', 'table_description': 'An uploaded file and where its processing stands.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Chunk',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('ingestion.Document', source_field='document_id', db_constraint=True, to_field='id', related_name='chunks', on_delete=OnDelete.CASCADE)),
                ('org_id', fields.UUIDField()),
                ('collection_id', fields.UUIDField(db_index=True)),
                ('index', fields.IntField()),
                ('text', fields.TextField(unique=False)),
                ('page', fields.IntField(null=True)),
                ('heading', fields.TextField(null=True, unique=False)),
                ('token_count', fields.IntField()),
            ],
            options={'table': 'chunks', 'app': 'ingestion', 'unique_together': (('document_id', 'index'),), 'pk_attr': 'id', 'table_description': 'A piece of a document, embedded and indexed for search.'},
            bases=['Model'],
        ),
        # The vector and full-text columns live outside the ORM (see switchboard/ingestion/models.py).
        ops.RunSQL(
            [
                "CREATE EXTENSION IF NOT EXISTS vector",
                "ALTER TABLE chunks ADD COLUMN embedding vector(384)",
                "ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS "
                "(to_tsvector('english', coalesce(heading, '') || ' ' || text)) STORED",
                "CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops) "
                "WITH (m = 16, ef_construction = 64)",
                "CREATE INDEX chunks_tsv_gin ON chunks USING gin (tsv)",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS chunks_tsv_gin",
                "DROP INDEX IF EXISTS chunks_embedding_hnsw",
                "ALTER TABLE chunks DROP COLUMN IF EXISTS tsv",
                "ALTER TABLE chunks DROP COLUMN IF EXISTS embedding",
            ],
        ),
    ]

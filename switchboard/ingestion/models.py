"""Collections, documents and their chunks (the `ingestion` app).

A chunk's `embedding vector(384)` and `tsv tsvector` columns are created by the migration and
read and written with SQL (`index.py`, `search.py`): the ORM has no vector type, and bulk
writes go through COPY anyway.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise import fields
from tortoise.models import Model

EMBEDDING_DIM = 384
DOCUMENT_STATUSES = ("pending", "processing", "completed", "failed")


class Collection(Model):
    """A set of documents: a user's own (personal) or the org's (managed by admins, read by all members)."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    owner_id = fields.UUIDField(null=True, db_index=True)  # None for org collections
    scope = fields.CharField(max_length=16, default="personal")  # personal | org
    # "org" or the owner's id: names are unique per owner, or per org for org collections
    owner_key = fields.CharField(max_length=64)
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    is_default = fields.BooleanField(default=False)
    include_in_research = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "collections"
        unique_together = (("org_id", "owner_key", "name"),)


class Document(Model):
    """An uploaded file and where its processing stands."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    collection: fields.ForeignKeyRelation[Collection] = fields.ForeignKeyField(
        "ingestion.Collection", related_name="documents", on_delete=fields.RESTRICT
    )
    collection_id: uuid.UUID
    uploaded_by = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=300)
    kind = fields.CharField(max_length=8)
    content_type = fields.CharField(max_length=128)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    storage_key = fields.CharField(max_length=300)
    status = fields.CharField(max_length=16, default="pending", db_index=True)
    progress = fields.FloatField(default=0.0)
    error: str | None = fields.TextField(null=True)
    chunk_count = fields.IntField(default=0)
    page_count: int | None = fields.IntField(null=True)
    attempts = fields.IntField(default=0)
    lease_owner = fields.CharField(max_length=128, null=True)
    lease_until: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    processed_at: datetime | None = fields.DatetimeField(null=True)

    class Meta:
        table = "documents"
        unique_together = (("collection_id", "sha256"),)


class Chunk(Model):
    """A piece of a document, embedded and indexed for search."""

    id = fields.BigIntField(primary_key=True)
    document: fields.ForeignKeyRelation[Document] = fields.ForeignKeyField(
        "ingestion.Document", related_name="chunks", on_delete=fields.CASCADE
    )
    document_id: uuid.UUID
    org_id = fields.UUIDField()
    collection_id = fields.UUIDField(db_index=True)
    index = fields.IntField()
    text = fields.TextField()
    page: int | None = fields.IntField(null=True)
    heading: str | None = fields.TextField(null=True)
    token_count = fields.IntField()

    class Meta:
        table = "chunks"
        unique_together = (("document_id", "index"),)

"""Writing a document's chunks: vectors and text in bulk, one transaction per batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np
from tortoise.connection import get_connection

from switchboard.ingestion.chunk import Chunk as TextChunk

_COLUMNS = ("document_id", "org_id", "collection_id", "index", "text", "page", "heading", "token_count", "embedding")


async def write_chunks(
    document_id: uuid.UUID,
    org_id: uuid.UUID,
    collection_id: uuid.UUID,
    chunks: Sequence[TextChunk],
    vectors: Sequence[Sequence[float]],
) -> None:
    """COPY one batch of chunks with their vectors; a batch is all or nothing."""
    records = [
        (
            document_id,
            org_id,
            collection_id,
            c.index,
            c.text,
            c.page,
            c.heading,
            c.token_count,
            np.asarray(v, dtype=np.float32),
        )
        for c, v in zip(chunks, vectors, strict=True)
    ]
    client = get_connection("default")
    async with client.acquire_connection() as conn:  # one COPY is one statement: all rows or none
        await conn.copy_records_to_table("chunks", records=records, columns=_COLUMNS)


async def delete_chunks(document_id: uuid.UUID) -> int:
    """Remove every chunk of a document (a retried job starts clean, so no chunk is stored twice)."""
    client = get_connection("default")
    async with client.acquire_connection() as conn:
        status: str = await conn.execute("DELETE FROM chunks WHERE document_id = $1", document_id)
    return int(status.split()[-1])

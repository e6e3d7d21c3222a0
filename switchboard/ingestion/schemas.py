"""Request and response shapes of the document and collection routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from switchboard.platform.pagination import PageQuery


class DocumentOut(BaseModel):
    """A document and where its processing stands."""

    id: UUID
    collection_id: UUID
    name: str
    kind: str
    content_type: str
    size: int
    sha256: str
    status: str
    progress: float
    error: str | None
    chunk_count: int
    page_count: int | None
    created_at: datetime
    processed_at: datetime | None


class UploadAccepted(BaseModel):
    """An upload was stored and queued for processing."""

    id: UUID
    status: str
    name: str
    collection_id: UUID


class DocumentStatus(BaseModel):
    """Processing status."""

    id: UUID
    status: str
    progress: float
    error: str | None
    chunk_count: int


class DocumentQuery(PageQuery):
    """List filters."""

    collection_id: UUID | None = None
    status: Literal["pending", "processing", "completed", "failed"] | None = None


class ChunkOut(BaseModel):
    """A passage of a document."""

    id: int
    index: int
    text: str
    page: int | None
    heading: str | None
    token_count: int


class MoveIn(BaseModel):
    """Where to move a document."""

    collection_id: UUID


class SearchIn(BaseModel):
    """A search over the caller's documents."""

    query: str = Field(min_length=1, max_length=2000)
    mode: Literal["hybrid", "semantic", "text"] = "hybrid"
    collection_ids: list[UUID] | None = Field(None, max_length=100)
    document_ids: list[UUID] | None = Field(None, max_length=500)
    top_k: int = Field(10, ge=1, le=100)


class SearchResult(BaseModel):
    """A matching passage."""

    chunk_id: int
    document_id: UUID
    document_name: str
    text: str
    score: float = Field(description="Rank score: rank fusion in hybrid search, similarity or word rank otherwise.")
    similarity: float | None = Field(
        None, description="Cosine similarity to the query (-1..1); null in a words-only search."
    )
    found_by: list[Literal["semantic", "text"]] = Field(
        default_factory=list, description="Which half of the search found it: semantic, text (words), or both."
    )
    page: int | None
    heading: str | None


class SearchOut(BaseModel):
    """Search results, best first."""

    query: str
    mode: str
    results: list[SearchResult]


class CollectionIn(BaseModel):
    """A new collection."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    include_in_research: bool = True


class CollectionPatch(BaseModel):
    """Collection changes."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    include_in_research: bool | None = None


class CollectionOut(BaseModel):
    """A collection."""

    id: UUID
    name: str
    description: str
    scope: str
    is_default: bool
    include_in_research: bool
    created_at: datetime

"""Search by meaning (pgvector HNSW, cosine), by words (PostgreSQL full text), or both fused (RRF)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from tortoise.connection import get_connection

Mode = Literal["hybrid", "semantic", "text"]
RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al.): damps the weight of the very top ranks


@dataclass(frozen=True)
class SearchHit:
    """One matching chunk."""

    chunk_id: int
    document_id: uuid.UUID
    document_name: str
    collection_id: uuid.UUID
    text: str
    score: float
    page: int | None
    heading: str | None
    similarity: float | None = None
    """Cosine similarity of the passage to the query (None in a words-only search)."""
    found_by: tuple[str, ...] = ()
    """Which searches found it: "semantic", "text", or both."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the API and the model are sent)."""
        return {
            "chunk_id": self.chunk_id,
            "document_id": str(self.document_id),
            "document_name": self.document_name,
            "collection_id": str(self.collection_id),
            "text": self.text,
            "score": round(self.score, 6),
            "page": self.page,
            "heading": self.heading,
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "found_by": list(self.found_by),
        }


@dataclass(frozen=True)
class SearchResults:
    """What the `search_documents` tool found: the model reads `as_dict()`, chat reads `passages`."""

    query: str
    hits: tuple[SearchHit, ...]

    @property
    def passages(self) -> tuple[SearchHit, ...]:
        """The hits, best first (`switchboard.agents.FoundPassages`)."""
        return self.hits

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, what the model is sent."""
        return {"query": self.query, "results": [hit.as_dict() for hit in self.hits]}


_SELECT = (
    "SELECT c.id, c.document_id, d.name, c.collection_id, c.text, c.page, c.heading{score} "
    "FROM chunks c JOIN documents d ON d.id = c.document_id "
    "WHERE c.collection_id = ANY($1::uuid[]) AND ($2::uuid[] IS NULL OR c.document_id = ANY($2::uuid[])) "
    "AND d.status = 'completed' "
)


def _hit(row: Any, score: float) -> SearchHit:
    return SearchHit(row[0], row[1], row[2], row[3], row[4], score, row[5], row[6])


async def semantic(
    vector: Sequence[float], collections: list[uuid.UUID], documents: list[uuid.UUID] | None, limit: int, ef_search: int
) -> list[SearchHit]:
    """Nearest chunks by cosine distance, through the HNSW index."""
    # only constant fragments are joined here; every value is a bind parameter
    sql = (
        "SELECT * FROM ("  # noqa: S608
        + _SELECT.format(score=", c.embedding <=> $3 AS distance")
        + "ORDER BY c.embedding <=> $3 LIMIT $4) hits ORDER BY distance"
    )
    client = get_connection("default")
    async with client.acquire_connection() as conn, conn.transaction():
        # ef_search: candidates the graph walk keeps; iterative scans keep filtered searches from coming up short
        await conn.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
        await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        rows = await conn.fetch(sql, collections, documents, np.asarray(vector, dtype=np.float32), limit)
    return [replace(_hit(r, 1.0 - float(r[7])), similarity=1.0 - float(r[7]), found_by=("semantic",)) for r in rows]


# Ranking costs per matching chunk; a query of common words matches tens of thousands. Rank only the
# first TEXT_CANDIDATES matches: for such queries the words barely discriminate, and hybrid search
# leans on the semantic list anyway.
TEXT_CANDIDATES = 2000

_TEXT_SQL = (
    "WITH q AS (SELECT websearch_to_tsquery('english', $3) AS q), "
    "candidates AS (SELECT c.id FROM chunks c, q WHERE c.tsv @@ q.q AND c.collection_id = ANY($1::uuid[]) "
    "AND ($2::uuid[] IS NULL OR c.document_id = ANY($2::uuid[])) LIMIT $5) "
    "SELECT c.id, c.document_id, d.name, c.collection_id, c.text, c.page, c.heading, ts_rank_cd(c.tsv, q.q) AS rank "
    "FROM candidates k JOIN chunks c ON c.id = k.id JOIN documents d ON d.id = c.document_id, q "
    "WHERE d.status = 'completed' ORDER BY rank DESC, c.id LIMIT $4"
)


# the same, each passage also measured against the query vector ($6): how hybrid search applies its cut-off
_TEXT_SQL_MEASURED = _TEXT_SQL.replace(
    "ts_rank_cd(c.tsv, q.q) AS rank ", "ts_rank_cd(c.tsv, q.q) AS rank, 1 - (c.embedding <=> $6) AS similarity "
)


async def text(
    query: str,
    collections: list[uuid.UUID],
    documents: list[uuid.UUID] | None,
    limit: int,
    vector: Sequence[float] | None = None,
) -> list[SearchHit]:
    """Chunks matching the words of `query` (web-search syntax: quotes, OR, -word), best ranked first; with
    the query's `vector`, each with its cosine similarity to it."""
    client = get_connection("default")
    async with client.acquire_connection() as conn:
        if vector is None:
            rows = await conn.fetch(_TEXT_SQL, collections, documents, query, limit, TEXT_CANDIDATES)
            return [replace(_hit(r, float(r[7])), found_by=("text",)) for r in rows]
        measured = np.asarray(vector, dtype=np.float32)
        rows = await conn.fetch(_TEXT_SQL_MEASURED, collections, documents, query, limit, TEXT_CANDIDATES, measured)
    return [replace(_hit(r, float(r[7])), similarity=float(r[8]), found_by=("text",)) for r in rows]


def fuse(rankings: Sequence[Sequence[SearchHit]], limit: int) -> list[SearchHit]:
    """Reciprocal-rank fusion: each list adds 1 / (RRF_K + rank) to a chunk's score; a chunk keeps the
    semantic similarity of the list that had one and the names of every list that found it."""
    scores: dict[int, float] = {}
    first_seen: dict[int, SearchHit] = {}
    similarity: dict[int, float] = {}
    found_by: dict[int, tuple[str, ...]] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1.0 / (RRF_K + rank)
            first_seen.setdefault(hit.chunk_id, hit)
            if hit.similarity is not None:
                similarity.setdefault(hit.chunk_id, hit.similarity)
            found_by[hit.chunk_id] = found_by.get(hit.chunk_id, ()) + tuple(
                f for f in hit.found_by if f not in found_by.get(hit.chunk_id, ())
            )
    ordered = sorted(scores, key=lambda chunk_id: (-scores[chunk_id], chunk_id))[:limit]
    hits = []
    for chunk_id in ordered:
        hit = first_seen[chunk_id]
        hits.append(
            SearchHit(
                hit.chunk_id,
                hit.document_id,
                hit.document_name,
                hit.collection_id,
                hit.text,
                scores[chunk_id],
                hit.page,
                hit.heading,
                similarity.get(chunk_id),
                found_by.get(chunk_id, ()),
            )
        )
    return hits

"""Search latency at scale, and how much of the exact nearest neighbours HNSW finds.

Prints one JSON object. Real text chunks of the Python 3.11 manual (bench/pydocs.py) are embedded
with the default backend (vectors are cached in the bench cache folder between runs); the table
is filled up to --chunks rows with vectors derived from them: each is a real vector plus a
fraction of another real one plus Gaussian noise, re-normalised, and carries the text of the
first (so full-text search sees real text too). Rows go in with COPY (`write_chunks`) into an
embedded server; the HNSW index is dropped for the load and rebuilt with its own definition.

Queries (the hand-written questions of bench/questions.json plus phrases taken from real chunks)
run one at a time through `switchboard.ingestion.search` the way `service.query` composes them,
and once more through `service.query` itself (query vectors cached, so it adds only the
collection lookup). Query embedding is timed on its own. recall@10 compares the HNSW answer
with an exact scan (same SQL, index scans disabled).

    python bench/search.py [--chunks 100000] [--real 6000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # run as a script from anywhere

import numpy as np  # noqa: E402
from tortoise.connection import get_connection  # noqa: E402

from bench import pydocs  # noqa: E402
from bench.common import percentile, servers  # noqa: E402
from switchboard import contexts  # noqa: E402
from switchboard.cli import prepare_database  # noqa: E402
from switchboard.ingestion import (  # noqa: E402
    DEFAULT_BACKEND,
    QueryEmbeddingCache,
    SentenceTransformerEmbedder,
    extract,
    search,
    service,
)
from switchboard.ingestion.chunk import Chunk as TextChunk  # noqa: E402
from switchboard.ingestion.chunk import ModelTokenCounter, chunk  # noqa: E402
from switchboard.ingestion.index import write_chunks  # noqa: E402
from switchboard.ingestion.models import Collection, Document  # noqa: E402
from switchboard.ingestion.pipeline import IngestionPipeline  # noqa: E402
from switchboard.ingestion.resources import IngestionResources, default_onnx_dir  # noqa: E402
from switchboard.platform.auth import Principal  # noqa: E402
from switchboard.platform.runtime import Runtime  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent / "questions.json"
TOP_K = 10
CHUNKS_PER_DOCUMENT = 100
NAVIGATION = {"Navigation", "Table of Contents", "Previous topic", "Next topic", "This Page", "Quick search"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def real_chunks(limit: int) -> list[TextChunk]:
    """Up to `limit` chunks of the manual's pages, page furniture left out."""
    counter = ModelTokenCounter.from_model_dir()
    pages = pydocs.all_pages(pydocs.html_root())
    random.Random(7).shuffle(pages)
    found: list[TextChunk] = []
    for page in pages:
        found += [c for c in chunk(extract("html", page.read_bytes()), counter) if c.heading not in NAVIGATION]
        if len(found) >= limit:
            break
    return found[:limit]


async def embed_cached(embedder: SentenceTransformerEmbedder, texts: list[str]) -> np.ndarray:
    """Vectors of `texts`, from the cache folder when this exact list was embedded before."""
    key = hashlib.sha256(("\0".join(texts) + embedder.backend).encode()).hexdigest()[:16]
    path = pydocs.cache_dir() / f"search-vectors-{key}.npy"
    if path.is_file():
        return np.load(path)
    log(f"embedding {len(texts)} real chunks ({embedder.backend}); cached for the next run")
    vectors = []
    for start in range(0, len(texts), 256):
        vectors += await embedder.embed(texts[start : start + 256])
    array = np.asarray(vectors, dtype=np.float32)
    np.save(path, array)
    return array


def derived(real: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` vectors near real ones: v_a + u * v_b + noise, unit length; and each one's source a."""
    a = rng.integers(0, len(real), count)
    b = rng.integers(0, len(real), count)
    mix = rng.uniform(0.0, 0.4, (count, 1)).astype(np.float32)
    noise = rng.standard_normal((count, real.shape[1])).astype(np.float32)
    noise *= (rng.uniform(0.3, 0.6, (count, 1)) / np.linalg.norm(noise, axis=1, keepdims=True)).astype(np.float32)
    vectors = real[a] + mix * real[b] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, a


def query_texts(chunks: list[TextChunk], count: int) -> list[str]:
    """The hand-written questions, then phrases from real chunks (their first 4-10 words)."""
    texts = [q["q"] for q in json.loads(QUESTIONS.read_text())["questions"]]
    rng = random.Random(11)
    while len(texts) < count:
        words = rng.choice(chunks).text.split()
        if len(words) >= 12:
            texts.append(" ".join(words[: rng.randint(4, 10)]))
    return texts[:count]


async def load(
    chunks: list[TextChunk], vectors: np.ndarray, sources: np.ndarray, principal: Principal, ef_construction: int
) -> dict:
    """Documents of 100 chunks each in one collection, COPY'd in; the HNSW index rebuilt after.

    The index is rebuilt with the migration's own definition (read back from the catalog), or with
    another ef_construction when one is given.
    """
    collection = await Collection.create(
        org_id=principal.org_id, owner_id=principal.user_id, owner_key=str(principal.user_id), name="bench"
    )
    conn_client = get_connection("default")
    async with conn_client.acquire_connection() as conn:
        indexdef = await conn.fetchval("SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding_hnsw'")
        await conn.execute("DROP INDEX chunks_embedding_hnsw")
    began = time.perf_counter()
    for start in range(0, len(vectors), CHUNKS_PER_DOCUMENT):
        rows = range(start, min(start + CHUNKS_PER_DOCUMENT, len(vectors)))
        document = await Document.create(
            id=uuid.uuid4(),
            org_id=principal.org_id,
            collection_id=collection.id,
            uploaded_by=principal.user_id,
            name=f"document-{start // CHUNKS_PER_DOCUMENT:05d}.html",
            kind="html",
            content_type="text/html",
            size=1,
            sha256=f"{start:064d}",
            storage_key=f"bench/{start}",
            status="completed",
            progress=1.0,
            chunk_count=len(rows),
        )
        pieces = []
        for i, row in enumerate(rows):
            source = chunks[int(sources[row])]
            pieces.append(TextChunk(source.text, i, None, source.heading, source.token_count))
        await write_chunks(document.id, principal.org_id, collection.id, pieces, vectors[start : rows.stop])
    copied = time.perf_counter() - began
    async with conn_client.acquire_connection() as conn:
        began = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '2GB'")
        await conn.execute("SET max_parallel_maintenance_workers = 1")
        if ef_construction:
            indexdef = indexdef.replace("ef_construction='64'", f"ef_construction='{int(ef_construction)}'")
        await conn.execute(indexdef)
        built = time.perf_counter() - began
        await conn.execute("VACUUM ANALYZE chunks")
        sizes = await conn.fetchrow(
            "SELECT pg_size_pretty(pg_table_size('chunks')) AS table_size, "
            "pg_size_pretty(pg_relation_size('chunks_embedding_hnsw')) AS hnsw_size, "
            "pg_size_pretty(pg_relation_size('chunks_tsv_gin')) AS gin_size, "
            "current_setting('shared_buffers') AS shared_buffers"
        )
    return {
        "collection_id": collection.id,
        "copy_s": round(copied, 1),
        "hnsw_build_s": round(built, 1),
        "index": indexdef.split(" USING ", 1)[1],
        **dict(sizes),
    }


async def exact_ids(vector: np.ndarray, collection_id: uuid.UUID) -> list[int]:
    """The true 10 nearest rows: the semantic query with index scans off (a sequential scan and a sort)."""
    sql = search._SELECT.format(score="") + "ORDER BY c.embedding <=> $3 LIMIT $4"
    async with get_connection("default").acquire_connection() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_indexscan = off")
        rows = await conn.fetch(sql, [collection_id], None, vector, TOP_K)
    return [r[0] for r in rows]


async def exact_plan_uses_index(vector: np.ndarray, collection_id: uuid.UUID) -> bool:
    sql = "EXPLAIN " + search._SELECT.format(score="") + "ORDER BY c.embedding <=> $3 LIMIT $4"
    async with get_connection("default").acquire_connection() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_indexscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch(sql, [collection_id], None, vector, TOP_K))
    return "chunks_embedding_hnsw" in plan


async def hnsw_recall(query_vectors: list[np.ndarray], collection_id: uuid.UUID) -> dict[str, float]:
    """Share of the exact 10 nearest that `search.semantic` returns, at a few ef_search values."""
    truth = [await exact_ids(v, collection_id) for v in query_vectors]
    recall = {}
    for ef_search in (40, 100, 200):
        found = 0
        for v, true_ids in zip(query_vectors, truth, strict=True):
            hits = await search.semantic(v, [collection_id], None, TOP_K, ef_search)
            found += len({h.chunk_id for h in hits} & set(true_ids))
        recall[f"ef_search_{ef_search}"] = round(found / (TOP_K * len(truth)), 4)
    return recall


async def matches(texts: list[str], took_ms: dict[str, float]) -> list[dict[str, Any]]:
    """How many chunks each query's words match (text search ranks every one of them)."""
    rows = []
    async with get_connection("default").acquire_connection() as conn:
        for text in texts:
            count = await conn.fetchval(
                "SELECT count(*) FROM chunks WHERE tsv @@ websearch_to_tsquery('english', $1)", text
            )
            rows.append({"query": text, "ms": round(took_ms[text], 1), "matching_chunks": count})
    return rows


async def semantic_plan(vector: np.ndarray, collection_id: uuid.UUID, ef_search: int) -> list[str]:
    """EXPLAIN ANALYZE of `search.semantic`'s query, under its own settings."""
    sql = (
        "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM ("  # noqa: S608 (constant fragments only)
        + search._SELECT.format(score=", c.embedding <=> $3 AS distance")
        + "ORDER BY c.embedding <=> $3 LIMIT $4) hits ORDER BY distance"
    )
    async with get_connection("default").acquire_connection() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
        await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        return [r[0] for r in await conn.fetch(sql, [collection_id], None, vector, TOP_K)]


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples, 50), 2),
        "p90_ms": round(percentile(samples, 90), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "max_ms": round(max(samples), 2),
    }


async def measure(settings: Any, args: argparse.Namespace) -> dict[str, Any]:
    chunks = real_chunks(args.real)
    texts = [c.embedding_text for c in chunks]
    embedder = SentenceTransformerEmbedder(DEFAULT_BACKEND, onnx_dir=default_onnx_dir())
    await embedder.load()
    real = await embed_cached(embedder, texts)
    rng = np.random.default_rng(5)
    extra, sources = derived(real, max(0, args.chunks - len(real)), rng)
    vectors = np.concatenate([real, extra])[: args.chunks]
    sources = np.concatenate([np.arange(len(real)), sources])[: args.chunks]
    nearest_real = float(np.mean(np.max(extra[:500] @ real.T, axis=1))) if len(extra) else None
    queries = query_texts(chunks, args.queries)

    embed_ms, query_vectors = [], []
    for text in queries:  # one at a time, as a search request embeds its query
        began = time.perf_counter()
        query_vectors.append(np.asarray((await embedder.embed([text]))[0], dtype=np.float32))
        embed_ms.append((time.perf_counter() - began) * 1000)

    runtime = await Runtime.open(settings, contexts.MODEL_APPS)
    principal = Principal(user_id=uuid.uuid4(), email="bench@example.com", org_id=uuid.uuid4(), role="member")
    cache = QueryEmbeddingCache(embedder)
    runtime.provide(IngestionResources(embedder, cache, IngestionPipeline(embedder)))
    try:
        log(f"loading {len(vectors)} chunks ({len(real)} real)")
        loaded = await load(chunks, vectors, sources, principal, args.ef_construction)
        collection = [loaded.pop("collection_id")]
        log(f"loaded: {loaded}")
        for text in queries:
            await cache.embed_query(text)
        ef = runtime.settings.search_ef
        pool = max(TOP_K * 5, 50)  # as service.query

        async def semantic(i: int) -> Any:
            return await search.semantic(query_vectors[i], collection, None, TOP_K, ef)

        async def text(i: int) -> Any:
            return await search.text(queries[i], collection, None, TOP_K)

        async def hybrid(i: int) -> Any:
            lists = await asyncio.gather(
                search.semantic(query_vectors[i], collection, None, pool, max(ef, pool)),
                search.text(queries[i], collection, None, pool),
            )
            return search.fuse(lists, TOP_K)

        async def service_hybrid(i: int) -> Any:
            return await service.query(principal, runtime, queries[i], mode="hybrid", top_k=TOP_K)

        modes = {"semantic": semantic, "text": text, "hybrid": hybrid, "service_query_hybrid": service_hybrid}
        latencies: dict[str, list[float]] = {mode: [] for mode in modes}
        text_ms: dict[str, float] = {}
        text_hits = 0
        for round_ in range(args.rounds + 1):  # the first round warms caches up and is not counted
            for i in range(len(queries)):
                for mode, run in modes.items():
                    began = time.perf_counter()
                    hits = await run(i)
                    if round_:
                        latencies[mode].append((time.perf_counter() - began) * 1000)
                        if mode == "text":
                            text_ms[queries[i]] = max(text_ms.get(queries[i], 0.0), latencies[mode][-1])
                    elif mode == "text":
                        text_hits += bool(hits)

        log("exact search for recall")
        recall = await hnsw_recall(query_vectors, collection[0])
        uses_index = await exact_plan_uses_index(query_vectors[0], collection[0])
        plan = await semantic_plan(query_vectors[0], collection[0], ef)
        slowest_text = await matches(sorted(text_ms, key=text_ms.__getitem__)[-3:], text_ms)
    finally:
        await runtime.close()
        embedder.close()
    return {
        "chunks": len(vectors),
        "real_chunks": len(real),
        "derived_mean_best_cosine_to_real": round(nearest_real, 3) if nearest_real is not None else None,
        "load": loaded,
        "queries": len(queries),
        "samples_per_mode": len(latencies["semantic"]),
        "text_queries_with_hits": round(text_hits / len(queries), 3),
        "query_embedding": {"backend": DEFAULT_BACKEND, **summary(embed_ms)},
        "latency_excluding_query_embedding": {mode: summary(values) for mode, values in latencies.items()},
        "search_ef": ef,
        "recall@10_vs_exact": recall,
        "exact_plan_uses_index": uses_index,
        "slowest_text_queries": slowest_text,
        "semantic_plan": plan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--real", type=int, default=6000, help="chunks of real text embedded; the rest derived")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--ef-construction", type=int, default=0, help="build the index with this ef_construction (experiment)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the queries (after a warm-up)")
    args = parser.parse_args()
    started = time.perf_counter()
    with servers() as settings:
        asyncio.run(prepare_database(settings))
        figures = asyncio.run(measure(settings, args))
    lat = figures["latency_excluding_query_embedding"]
    result = {
        "benchmark": "search_latency",
        **figures,
        "targets": {
            "semantic_p99_ms": 10,
            "hybrid_p99_ms": 20,
            "recall@10_at_ef_100": 0.95,
            "met": {
                "semantic": lat["semantic"]["p99_ms"] <= 10,
                "hybrid": lat["hybrid"]["p99_ms"] <= 20,
                "recall": figures["recall@10_vs_exact"]["ef_search_100"] >= 0.95,
            },
        },
        "cpus": os.cpu_count(),
        "seconds": round(time.perf_counter() - started, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

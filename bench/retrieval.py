"""Retrieval quality of the documents pipeline on a real manual: recall@5, recall@10 and MRR.

Prints one JSON object. The corpus is the library reference of Debian's `python3.11-doc`
(fetched and unpacked by bench/pydocs.py); the questions, each with the page(s) that answer
it, are in bench/questions.json. Every page goes through the job's own steps (extract, chunk,
embed in batches of 64, COPY via `write_chunks`) once per embedder backend, into a collection
of its own; every question is then asked through `service.query` in each mode.

A question counts as answered at k when a chunk of one of its pages is among the first k hits
(recall@k, averaged over questions); MRR is the mean of 1 / rank of the first such chunk
(0 beyond 10). A sweep over fusion settings (RRF k, candidate pool, weight of the text list)
runs on the default backend's pools, to check `service.query`'s choices.

    python bench/retrieval.py [--pages 150] [--backends onnx-quantized,onnx,torch] [--no-sweep]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # run as a script from anywhere

from bench import pydocs  # noqa: E402
from bench.common import servers  # noqa: E402
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
from switchboard.ingestion.pipeline import IngestionPipeline, embed_chunks  # noqa: E402
from switchboard.ingestion.resources import IngestionResources, default_onnx_dir  # noqa: E402
from switchboard.ingestion.tasks import BATCH  # noqa: E402
from switchboard.platform.auth import Principal  # noqa: E402
from switchboard.platform.runtime import Runtime  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent / "questions.json"
MODES = ("hybrid", "semantic", "text")
TOP_K = 10
# Sphinx page furniture that the HTML extractor keeps as sections of their own
NAVIGATION = {"Navigation", "Table of Contents", "Previous topic", "Next topic", "This Page", "Quick search"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def choose_pages(library: list[Path], questions: list[dict[str, Any]], pages: int) -> list[Path]:
    """Every page a question names, then others spread over the alphabet, up to `pages`."""
    wanted = {p for q in questions for p in q["pages"]}
    chosen = [p for p in library if p.name in wanted]
    others = [p for p in library if p.name not in wanted]
    room = max(0, pages - len(chosen))
    step = max(1, len(others) // room) if room else 1
    return sorted(chosen + (others[::step][:room] if room else []))


def score(ranked_pages: list[list[str]], questions: list[dict[str, Any]]) -> dict[str, float]:
    """recall@5, recall@10 and MRR over the questions, from each question's hit pages in rank order."""
    r5 = r10 = rr = 0.0
    for pages, question in zip(ranked_pages, questions, strict=True):
        relevant = set(question["pages"])
        first = next((rank for rank, page in enumerate(pages[:TOP_K], start=1) if page in relevant), None)
        if first is not None:
            r5 += first <= 5
            r10 += 1
            rr += 1 / first
    n = len(questions)
    return {"recall@5": round(r5 / n, 3), "recall@10": round(r10 / n, 3), "mrr": round(rr / n, 3)}


def fuse(lists: list[list[search.SearchHit]], k: int, weights: list[float], limit: int) -> list[search.SearchHit]:
    """Weighted reciprocal-rank fusion (weights 1, 1 and k = 60 is `search.fuse`)."""
    scores: dict[int, float] = collections.defaultdict(float)
    first: dict[int, search.SearchHit] = {}
    for ranking, weight in zip(lists, weights, strict=True):
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.chunk_id] += weight / (k + rank)
            first.setdefault(hit.chunk_id, hit)
    return [first[c] for c in sorted(scores, key=lambda c: (-scores[c], c))[:limit]]


async def index_pages(
    runtime: Runtime, principal: Principal, backend: str, pages: list[tuple[Path, bytes, list[TextChunk]]]
) -> tuple[uuid.UUID, SentenceTransformerEmbedder, float]:
    """A collection holding every page, embedded by `backend`; and the seconds the embedding took."""
    collection = await Collection.create(
        org_id=principal.org_id,
        owner_id=principal.user_id,
        owner_key=str(principal.user_id),
        scope="personal",
        name=f"bench {backend}",
    )
    embedder = SentenceTransformerEmbedder(backend, onnx_dir=default_onnx_dir())  # type: ignore[arg-type]
    await embedder.load()
    embedding_s = 0.0
    for path, data, pieces in pages:
        document = await Document.create(
            id=uuid.uuid4(),
            org_id=principal.org_id,
            collection_id=collection.id,
            uploaded_by=principal.user_id,
            name=path.name,
            kind="html",
            content_type="text/html",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=f"bench/{path.name}",
            status="completed",
            progress=1.0,
            chunk_count=len(pieces),
        )
        for start in range(0, len(pieces), BATCH):
            batch = pieces[start : start + BATCH]
            began = time.perf_counter()
            vectors = await embed_chunks(embedder, batch)  # as the ingestion pipeline calls it
            embedding_s += time.perf_counter() - began
            await write_chunks(document.id, principal.org_id, collection.id, batch, vectors)
    return collection.id, embedder, embedding_s


async def evaluate(
    settings: Any, files: list[Path], backends: list[str], questions: list[dict[str, Any]], sweep: bool
) -> dict[str, Any]:
    runtime = await Runtime.open(settings, contexts.MODEL_APPS)
    principal = Principal(user_id=uuid.uuid4(), email="bench@example.com", org_id=uuid.uuid4(), role="member")
    texts = [q["q"] for q in questions]
    result: dict[str, Any] = {}
    try:
        counter = ModelTokenCounter.from_model_dir()
        began = time.perf_counter()
        pages = []
        for path in files:
            data = path.read_bytes()
            pages.append((path, data, chunk(extract("html", data), counter)))
        all_chunks = [c for _, _, pieces in pages for c in pieces]
        tokens = sorted(c.token_count for c in all_chunks)
        headings = collections.Counter(c.heading for c in all_chunks)
        result["chunking"] = {
            "pages": len(pages),
            "chunks": len(all_chunks),
            "extract_chunk_s": round(time.perf_counter() - began, 1),
            "tokens_mean": round(sum(tokens) / len(tokens), 1),
            "tokens_median": tokens[len(tokens) // 2],
            "chunks_under_32_tokens": round(sum(t < 32 for t in tokens) / len(tokens), 3),
            "navigation_chunks": round(sum(headings[h] for h in NAVIGATION) / len(all_chunks), 3),
            "commonest_headings": headings.most_common(6),
        }
        log(f"chunking: {result['chunking']}")
        result["backends"] = {}
        for backend in backends:
            collection_id, embedder, embedding_s = await index_pages(runtime, principal, backend, pages)
            runtime.provide(IngestionResources(embedder, QueryEmbeddingCache(embedder), IngestionPipeline(embedder)))
            figures: dict[str, Any] = {"embed_chunks_per_s": round(len(all_chunks) / embedding_s, 1)}
            for mode in MODES if backend == backends[0] else ("hybrid", "semantic"):
                ranked, navigation = [], 0
                for text in texts:
                    hits = await service.query(
                        principal, runtime, text, mode=mode, collection_ids=[collection_id], top_k=TOP_K
                    )
                    ranked.append([h.document_name for h in hits])
                    navigation += sum(h.heading in NAVIGATION for h in hits)
                figures[mode] = {**score(ranked, questions), "navigation_hits": navigation}
            log(f"{backend}: {figures}")
            result["backends"][backend] = figures
            if sweep and backend == backends[0]:
                result["fusion_sweep"] = await fusion_sweep(runtime, collection_id, texts, questions, embedder)
            embedder.close()
    finally:
        await runtime.close()
    return result


async def fusion_sweep(
    runtime: Runtime,
    collection_id: uuid.UUID,
    texts: list[str],
    questions: list[dict[str, Any]],
    embedder: SentenceTransformerEmbedder,
) -> list[dict[str, Any]]:
    """Hybrid variants from the same candidate lists: RRF k, pool size, weight of the text list."""
    pools = []
    for text in texts:
        vector = (await embedder.embed([text]))[0]
        semantic = await search.semantic(vector, [collection_id], None, 100, max(runtime.settings.search_ef, 100))
        words = await search.text(text, [collection_id], None, 100)
        pools.append((semantic, words))
    rows = []
    for pool in (20, 50, 100):
        for k in (10, 30, 60):
            for text_weight in (0.5, 1.0):
                ranked = [
                    [h.document_name for h in fuse([s[:pool], w[:pool]], k, [1.0, text_weight], TOP_K)]
                    for s, w in pools
                ]
                rows.append({"pool": pool, "rrf_k": k, "text_weight": text_weight, **score(ranked, questions)})
    rows.sort(key=lambda r: (-r["recall@10"], -r["mrr"]))
    log(f"fusion sweep, best first: {rows[:4]}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=150, help="library pages to index (question pages included)")
    parser.add_argument("--backends", default="onnx-quantized,onnx,torch", help="comma-separated, default first")
    parser.add_argument("--no-sweep", action="store_true", help="skip the fusion settings sweep")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    questions = json.loads(QUESTIONS.read_text())["questions"]
    files = choose_pages(pydocs.library_pages(pydocs.html_root()), questions, args.pages)
    log(f"{len(questions)} questions over {len(files)} pages; backends {backends}")
    started = time.perf_counter()
    with servers() as settings:
        asyncio.run(prepare_database(settings))
        figures = asyncio.run(evaluate(settings, files, backends, questions, not args.no_sweep))
    default = figures["backends"][backends[0]]
    result: dict[str, Any] = {
        "benchmark": "retrieval_quality",
        "corpus": f"python3.11-doc library reference, {len(files)} pages",
        "questions": len(questions),
        "top_k": TOP_K,
        "default_backend": DEFAULT_BACKEND,
        **figures,
    }
    for backend in backends[1:]:
        result.setdefault("recall@10_minus_default", {})[backend] = {
            mode: round(figures["backends"][backend][mode]["recall@10"] - default[mode]["recall@10"], 3)
            for mode in ("hybrid", "semantic")
        }
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

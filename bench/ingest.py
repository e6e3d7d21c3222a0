"""Ingestion throughput end to end, in both shapes, against the bare embedder on the same chunks.

Prints one JSON object. Uploads every file of CORPUS_DIR (default: pages of the Python 3.11
HTML manual, see bench/pydocs.py) over HTTP and times the real `ingest_document` job (extract ->
chunk -> embed -> COPY into the indexed `chunks` table) in two shapes: production's (a
`switchboard serve` without workers beside a separate `switchboard worker` process, on servers
started here: `end_to_end`) and `make run`'s (a plain `switchboard serve` with its own embedded
servers and the worker processes it supervises: `end_to_end_serve`, with the CPU seconds each
kind of process took while the clock ran). The clock runs from the first upload to the last
document's `processed_at` (the polling that notices it comes up to `POLL_S` later:
`seconds_observed`). Then, with the worker stopped, the same chunks (same extractor, same
chunker) are embedded by the bare embedder, every chunk in upload order, 64 a call (as the
pipeline groups them across documents): from their texts (`embed`, tokenizing included: the
`bare_embedder` figure the ratio is taken against), from the word pieces the chunker made
(`embed_word_pieces`, what the pipeline calls: `bare_word_pieces`, with its own ratio), and from
their texts with plain sentence-transformers on torch (same calls, torch's own thread count).

    python bench/ingest.py [CORPUS_DIR] [--pages 40] [--backend onnx-quantized] [--no-torch] [--worker-max-jobs N]
                           [--shape both|worker|serve]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # run as a script from anywhere

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402

from bench import pydocs  # noqa: E402
from bench.common import make_run_process, serve_process, servers, worker_process  # noqa: E402
from switchboard.cli import prepare_database  # noqa: E402
from switchboard.config import Settings  # noqa: E402
from switchboard.ingestion import (  # noqa: E402
    DEFAULT_BACKEND,
    HEAD_SIZE,
    KINDS,
    SentenceTransformerEmbedder,
    detect_type,
    extract,
)
from switchboard.ingestion.chunk import Chunk as TextChunk  # noqa: E402
from switchboard.ingestion.chunk import ModelTokenCounter, chunk  # noqa: E402
from switchboard.ingestion.pipeline import EMBEDDING_BATCH  # noqa: E402
from switchboard.ingestion.resources import default_onnx_dir  # noqa: E402

RATE_LIMITS = {
    "register": "1000/minute",
    "login": "1000/minute",
    "api_user": "100000/minute",
    "api_ip": "100000/minute",
}
PASSWORD = "correct horse battery staple"  # noqa: S105 (a throwaway account)
POLL_S = 0.25
"""How often the benchmark looks for finished documents (the clock stops at their `processed_at`, so
this only sets how much of the machine its own queries take)."""
WARMUP = b"Warm-up.\n\nThis small file makes the worker load its embedding model before the clock starts.\n"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def settle_disk() -> None:
    """Write out what set-up left dirty (the new database's files, the model's), so the kernel's
    flusher does not do it on the clock: each timed phase pays for its own writes only."""
    os.sync()


def multipart(name: str, content: bytes) -> tuple[str, bytes]:
    """An upload request's Content-Type and body: one `file` part, as a browser sends it."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def corpus(directory: Path | None, pages: int) -> list[Path]:
    """The files to ingest: every supported file under `directory`, or `pages` pages of the Python manual."""
    if directory is not None:
        suffixes = {f".{kind}" for kind in KINDS} | {".htm", ".markdown", ".text"}
        return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    library = pydocs.library_pages(pydocs.html_root())
    step = max(1, len(library) // pages)
    return library[::step][:pages]  # spread over the alphabet: short and long pages alike


async def finished(conn: asyncpg.Connection, ids: list[uuid.UUID], limit_s: float) -> tuple[int, int, int, float]:
    """Wait until every document is completed or failed: (completed, failed, chunks, when the last one ended).

    The last is the worker's `processed_at` (Unix time, this machine's clock), so the polling's own
    delay does not count.
    """
    deadline = time.monotonic() + limit_s
    while True:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'completed') AS done, count(*) FILTER (WHERE status = 'failed') "
            "AS failed, coalesce(sum(chunk_count), 0) AS chunks, extract(epoch FROM max(processed_at)) AS last "
            "FROM documents WHERE id = ANY($1::uuid[])",
            ids,
        )
        if row["done"] + row["failed"] == len(ids):
            return row["done"], row["failed"], row["chunks"], float(row["last"])
        if time.monotonic() > deadline:
            raise SystemExit(f"ingestion did not finish in {limit_s:.0f}s: {dict(row)} of {len(ids)}")
        await asyncio.sleep(POLL_S)


async def end_to_end(
    base_url: str, database_url: str, files: list[Path], limit_s: float, serve_pid: int | None = None
) -> dict[str, Any]:
    """Upload over HTTP to the serve process, wait for the worker process(es) to index everything.

    With `serve_pid`, also the CPU seconds serve's processes took while the clock ran, by kind."""
    cpu_before: dict[str, float] = {}
    conn = await asyncpg.connect(database_url)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
            account = {"email": email, "password": PASSWORD, "name": "Bench"}
            registered = await client.post("/api/v1/auth/register", json=account)
            assert registered.status_code == 201, registered.text
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

            async def upload(name: str, body: tuple[str, bytes]) -> uuid.UUID:
                content_type, content = body
                response = await client.post(
                    "/api/v1/documents/upload", content=content, headers={"Content-Type": content_type}
                )
                assert response.status_code == 202, (name, response.text)
                return uuid.UUID(response.json()["id"])

            await finished(conn, [await upload("warmup.txt", multipart("warmup.txt", WARMUP))], limit_s)
            # Request bodies are made before the clock starts: it times the server's work, not the client's.
            contents = [(p.name, p.read_bytes()) for p in files]
            bodies = [multipart(name, content) for name, content in contents]
            settle_disk()
            if serve_pid is not None:
                cpu_before = cpu_by_kind(serve_pid)
            started = time.perf_counter()
            started_at = time.time()
            ids = [await upload(name, body) for (name, _), body in zip(contents, bodies, strict=True)]
            uploaded = time.perf_counter() - started
            done, failed, chunks, last = await finished(conn, ids, limit_s)
            observed = time.perf_counter() - started
            elapsed = last - started_at
            cpu_after = cpu_by_kind(serve_pid) if serve_pid is not None else {}
    finally:
        await conn.close()
    cpu = {kind: round(seconds - cpu_before.get(kind, 0.0), 1) for kind, seconds in cpu_after.items()}
    return {
        **({"cpu_s": cpu} if cpu else {}),
        "documents": done,
        "failed": failed,
        "chunks": chunks,
        "bytes": sum(len(c) for _, c in contents),
        "upload_s": round(uploaded, 2),
        "seconds": round(elapsed, 2),
        "seconds_observed": round(observed, 2),
        "documents_per_s": round(done / elapsed, 2),
        "chunks_per_s": round(chunks / elapsed, 1),
    }


def cpu_by_kind(serve_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of serve and every process under it, summed by kind."""
    root = psutil.Process(serve_pid)
    totals: dict[str, float] = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            command = " ".join(proc.cmdline())
            times = proc.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        if proc.pid == serve_pid:
            kind = "web"
        elif "switchboard worker" in command:
            kind = "worker"
        elif "multiprocessing" in command:
            kind = "worker_prepare_child"
        elif "valkey" in command:
            kind = "valkey"
        elif "postgres" in command:
            kind = "postgres"
        else:
            kind = "other"
        totals[kind] = totals.get(kind, 0.0) + times.user + times.system
    return totals


def chunk_files(files: list[Path]) -> tuple[list[list[TextChunk]], float]:
    """Each file's chunks, as the job makes them; and the seconds extract + chunk took."""
    counter = ModelTokenCounter.from_model_dir()
    started = time.perf_counter()
    per_file = []
    for path in files:
        data = path.read_bytes()
        kind = detect_type(path.name, data[:HEAD_SIZE])
        per_file.append(chunk(extract(kind, data), counter))
    return per_file, time.perf_counter() - started


async def bare(backend: str, per_file: list[list[TextChunk]], *, word_pieces: bool = False) -> dict[str, Any]:
    """The embedder alone on all files' chunks in order, a full batch a call: from their texts, or their word pieces."""
    embedder = SentenceTransformerEmbedder(backend, onnx_dir=default_onnx_dir())  # type: ignore[arg-type]
    chunks = [c for file_chunks in per_file for c in file_chunks]

    async def embed(batch: list[TextChunk]) -> None:
        if word_pieces:
            await embedder.embed_word_pieces([c.word_pieces for c in batch if c.word_pieces is not None])
        else:
            await embedder.embed([c.embedding_text for c in batch])

    try:
        await embedder.load()
        await embed(chunks[:EMBEDDING_BATCH])  # first inference allocates; not counted
        settle_disk()
        started = time.perf_counter()
        for i in range(0, len(chunks), EMBEDDING_BATCH):
            await embed(chunks[i : i + EMBEDDING_BATCH])
        elapsed = time.perf_counter() - started
    finally:
        embedder.close()
    return {
        "backend": backend,
        "input": "word pieces" if word_pieces else "texts",
        "chunks": len(chunks),
        "seconds": round(elapsed, 2),
        "chunks_per_s": round(len(chunks) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus_dir", nargs="?", type=Path, help="folder of documents (default: the Python manual)")
    parser.add_argument("--pages", type=int, default=40, help="pages of the Python manual when no folder is given")
    parser.add_argument("--backend", default=DEFAULT_BACKEND, choices=["onnx-quantized", "onnx", "torch"])
    parser.add_argument("--no-torch", action="store_true", help="skip the plain torch comparison")
    parser.add_argument("--worker-max-jobs", type=int, help="jobs the worker runs at once (default: its setting)")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--shape",
        default="both",
        choices=["both", "worker", "serve"],
        help="serve + a separate worker process, a plain serve with its own workers (make run), or both",
    )
    args = parser.parse_args()
    files = corpus(args.corpus_dir, args.pages)
    if not files:
        raise SystemExit("no documents to ingest")
    load_before = os.getloadavg()[0]
    env = {"EMBEDDER": args.backend, "RATE_LIMITS": json.dumps(RATE_LIMITS)}
    if args.worker_max_jobs:
        env["WORKER_MAX_JOBS"] = str(args.worker_max_jobs)
    e2e: dict[str, Any] | None = None
    e2e_serve: dict[str, Any] | None = None
    if args.shape in ("both", "worker"):
        log(f"ingesting {len(files)} files through a separate worker process ({args.backend})")
        with servers() as base:
            settings = base.model_copy(update={"rate_limits": RATE_LIMITS, "embedder": args.backend})
            asyncio.run(prepare_database(settings))
            with serve_process(settings, env) as base_url, worker_process(settings, env):
                e2e = asyncio.run(end_to_end(base_url, settings.database_url or "", files, args.timeout))
        log(f"end to end, separate worker: {e2e}")
    if args.shape in ("both", "serve"):
        log(f"ingesting {len(files)} files through a plain `switchboard serve` and its workers ({args.backend})")
        with make_run_process(env) as (base_url, serve_pid, settings):
            e2e_serve = asyncio.run(
                end_to_end(base_url, settings.database_url or "", files, args.timeout, serve_pid=serve_pid)
            )
        log(f"end to end, make-run shape: {e2e_serve}")
    per_file, prepare_s = chunk_files(files)
    log(f"extract + chunk in this process: {prepare_s:.1f}s; embedding the same chunks bare")
    default = asyncio.run(bare(args.backend, per_file))
    log(f"bare {args.backend}: {default}")
    pieces = asyncio.run(bare(args.backend, per_file, word_pieces=True))
    log(f"bare {args.backend} on word pieces: {pieces}")
    result: dict[str, Any] = {
        "benchmark": "ingest_throughput",
        "corpus": str(args.corpus_dir) if args.corpus_dir else f"python3.11-doc library, {len(files)} pages",
        "cpus": os.cpu_count(),
        "backend": args.backend,
        "worker_max_jobs": args.worker_max_jobs or Settings().worker_max_jobs,
        "serve_worker_processes": Settings().embedded_worker,
        "extract_chunk_s": round(prepare_s, 2),
        "bare_embedder": default,
        "bare_word_pieces": pieces,
        "target_ratio": 0.85,
    }
    for name, run in (("end_to_end", e2e), ("end_to_end_serve", e2e_serve)):
        if run is None:
            continue
        result[name] = run
        suffix = "" if name == "end_to_end" else "_serve"
        result[f"ratio_end_to_end{suffix}_to_bare"] = round(run["chunks_per_s"] / default["chunks_per_s"], 3)
        result[f"ratio_end_to_end{suffix}_to_bare_word_pieces"] = round(run["chunks_per_s"] / pieces["chunks_per_s"], 3)
        if default["chunks"] != run["chunks"]:
            result["warning"] = "the bare run chunked differently from the job"
    if not args.no_torch and args.backend != "torch":
        torch = asyncio.run(bare("torch", per_file))
        log(f"bare torch: {torch}")
        result["torch_embedder"] = torch
        result["speedup_vs_torch"] = round(default["chunks_per_s"] / torch["chunks_per_s"], 2)
        result["target_speedup"] = 1.5
    result["load_average_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(result))


if __name__ == "__main__":
    main()

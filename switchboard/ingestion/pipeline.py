"""One ingestion pipeline per process: documents' CPU work off to the side, chunks embedded in full batches.

Every ingestion job of a process goes through it:

- `slot()`: at most `DOCUMENTS_AHEAD` documents of the process are read and prepared ahead of
  the embedder at once; the other jobs wait (their bytes are not even read yet). A document is
  no longer ahead once the embedder has taken its last texts: the next one is prepared while
  they are embedded, so the embedder finds a full batch waiting (with the slot held until the
  document was written, calls of 4-30 texts were common, and a call of 16 or fewer runs on one core).
- `prepare()`: extraction and chunking (pure Python, bound by the GIL) run in one child process
  at a lower CPU priority. In a thread beside the embedder they held the GIL the embedder's own
  Python needs and took a core from its intra-op threads (embedding fell to half speed). At a
  lower priority the child takes a small share of the cores, enough to keep documents prepared
  ahead of the embedder. It runs `PREPARE_NICENESS` below the worker: nice 19 under a worker at
  the default `WORKER_NICE=10` (0.87-0.95 of the bare embedder end to end on 40 pages), nice 10
  under a worker at 0.
- `embed()`: chunks are queued to one runner that calls the embedder with `batch` chunks at a
  time, taken across documents in the order they came, and hands each request its vectors. The
  embedder is never idle while a job writes its last batch, and a document's small tail batch
  shares a call with the next document's first. An embedder that takes word pieces
  (`WordPieceEmbedder`) gets the ids the chunker measured each chunk with (the child tokenizes
  with the embedder's own tokenizer), so the lanes do not tokenize the same text again (5-7 %
  of their CPU).

Each job still writes its own chunks batch by batch (one transaction each) and reports its own
progress; if it stops (an error, a timeout), its queued chunks are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchboard.ingestion.chunk import Chunk, ModelTokenCounter, chunk
from switchboard.ingestion.embedding.local import Embedder, WordPieceEmbedder
from switchboard.ingestion.errors import ExtractionFailed
from switchboard.ingestion.extraction import extract

log = logging.getLogger(__name__)

EMBEDDING_BATCH = 64
"""Chunks per embedder call (one call may hold the end of a document and the start of the next)."""
DOCUMENTS_AHEAD = 8
"""Documents one process has read and prepared ahead of its embedder (the rest of its jobs wait).

Enough for a full call when documents are small (at 4, pages of ~18 chunks left calls of 24-56 texts).
"""
CALLS_AHEAD = 2
"""Embedder calls the runner keeps in flight (see `IngestionPipeline._run`)."""
PREPARE_NICENESS = 10
"""How much lower the child that extracts and chunks runs than the worker (see `os.nice`)."""

Vectors = list[list[float]]


class IngestionPipeline:
    """The process's path from a document's bytes to its chunks' vectors (see the module's notes)."""

    def __init__(
        self, embedder: Embedder, *, batch: int = EMBEDDING_BATCH, documents_ahead: int = DOCUMENTS_AHEAD
    ) -> None:
        self._embedder = embedder
        self._batch = batch
        self._slots = asyncio.Semaphore(documents_ahead)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[_Request] = deque()
        self._runner: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold one of the process's places for a document ahead of the embedder.

        The place is given up when the block ends, or before: when the embedder takes the last text
        of a request queued with `embed(..., slot=...)`.
        """
        await self._slots.acquire()
        held = Slot(self._slots)
        try:
            yield held
        finally:
            held.release()

    async def prepare(self, kind: str, data: bytes) -> tuple[list[Chunk], int | None]:
        """The document's chunks and its page count (None without pages), made in the child process.

        Raises `ExtractionFailed` as `extract` does.
        """
        pool = self._child()
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(pool, _prepare, kind, data)
        except BrokenProcessPool:
            # The child died (out of memory on a huge file, killed): start a new one next time.
            if self._pool is pool:
                self._pool = None
            pool.shutdown(wait=False)
            raise
        if isinstance(outcome, str):
            raise ExtractionFailed(outcome)
        return outcome

    def embed(self, chunks: Sequence[Chunk], *, slot: Slot | None = None) -> asyncio.Future[Vectors]:
        """Queue `chunks`; the future gets their vectors, in order. Cancel it to drop them.

        `slot` (a document's last request): give the document's place up once the embedder has
        taken the last of these chunks.
        """
        future: asyncio.Future[Vectors] = asyncio.get_running_loop().create_future()
        if not chunks:
            future.set_result([])
            return future
        self._pending.append(_Request(list(chunks), future, slot))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="ingestion-embedder")
        return future

    @staticmethod
    def drop(futures: Sequence[asyncio.Future[Vectors]]) -> None:
        """Give up on queued requests (the job stops): their texts are not embedded."""
        for future in futures:
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved: no "never retrieved" warning for a request nobody awaits

    async def close(self) -> None:
        """Stop the runner and the child process; queued requests are cancelled."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for request in self._pending:
            request.future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _child(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: this process has threads (the embedder's, ONNX Runtime's, the database driver's)
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=functools.partial(_start_child, os.getpid(), PREPARE_NICENESS, self._tokenizer_file()),
            )
        return self._pool

    def _tokenizer_file(self) -> Path | None:
        """What the child measures chunks with: the embedder's tokenizer where it takes word pieces."""
        return self._embedder.tokenizer_file if isinstance(self._embedder, WordPieceEmbedder) else None

    async def _run(self) -> None:
        """Embed queued chunks, `batch` at a time across requests, until none are left.

        `CALLS_AHEAD` calls are kept in flight, so the embedder finds the next call's texts waiting
        when it finishes one (on 2 cores a call's last sub-batch runs on one lane, and handing the
        vectors back and taking the next texts takes this event loop a while); their vectors are
        handed out in the order the calls were made.
        """
        calls: deque[tuple[list[tuple[_Request, int, int]], asyncio.Future[Vectors]]] = deque()
        try:
            while True:
                while len(calls) < CALLS_AHEAD and (parts := self._take()):
                    chunks = [c for request, start, end in parts for c in request.chunks[start:end]]
                    calls.append((parts, asyncio.ensure_future(embed_chunks(self._embedder, chunks))))
                if not calls:
                    return
                parts, call = calls.popleft()
                try:
                    vectors = await call
                except Exception as exc:
                    for request, _, _ in parts:
                        if not request.future.done():
                            request.future.set_exception(exc)  # the rest of that request is skipped, too
                    continue
                _hand_out(parts, vectors)
        finally:  # stopped (`close`): the calls still in flight have nobody to hand their vectors to
            for _, call in calls:
                call.cancel()

    def _take(self) -> list[tuple[_Request, int, int]]:
        """Up to `batch` chunks from the front of the queue, as (request, start, end) slices."""
        parts: list[tuple[_Request, int, int]] = []
        room = self._batch
        while room and self._pending:
            request = self._pending[0]
            if request.future.done():  # cancelled by its job, or failed in an earlier call
                self._pending.popleft()
                continue
            start = request.taken
            request.taken = min(len(request.chunks), start + room)
            parts.append((request, start, request.taken))
            room -= request.taken - start
            if request.taken == len(request.chunks):
                self._pending.popleft()
                if request.slot is not None:
                    request.slot.release()
        return parts


def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk]) -> Coroutine[Any, Any, Vectors]:
    """The embedder's call for `chunks`: on their word pieces where it takes them and every chunk has them."""
    if isinstance(embedder, WordPieceEmbedder):
        pieces = [c.word_pieces for c in chunks if c.word_pieces is not None]
        if len(pieces) == len(chunks):
            return embedder.embed_word_pieces(pieces)
    return embedder.embed([c.embedding_text for c in chunks])


def _hand_out(parts: list[tuple[_Request, int, int]], vectors: Vectors) -> None:
    """Give each request its slice of one call's vectors; a request with all of them is done."""
    at = 0
    for request, start, end in parts:
        if not request.future.done():  # an earlier call failed it, or its job gave up on it
            request.vectors.extend(vectors[at : at + end - start])
            if len(request.vectors) == len(request.chunks):
                request.future.set_result(request.vectors)
        at += end - start


class Slot:
    """A document's place among those ahead of the embedder (see `IngestionPipeline.slot`)."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self._slots: asyncio.Semaphore | None = slots

    def release(self) -> None:
        """Give the place up (once; later calls do nothing)."""
        if self._slots is not None:
            self._slots.release()
            self._slots = None


@dataclass(eq=False)
class _Request:
    chunks: list[Chunk]
    future: asyncio.Future[Vectors]
    slot: Slot | None = None
    taken: int = 0
    vectors: Vectors = field(default_factory=list)


_counter: ModelTokenCounter | None = None
_tokenizer_file: Path | None = None


def _start_child(parent: int, niceness: int, tokenizer_file: Path | None) -> None:
    """In the child: lower its priority, tokenize on one thread, die with the worker.

    Chunks are measured with `tokenizer_file` (the embedder's; None: the packaged model's).
    """
    global _tokenizer_file
    _tokenizer_file = tokenizer_file
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the worker died before the line above
        os._exit(1)
    with contextlib.suppress(OSError):
        os.nice(niceness)
    # The tokenizer counts one document's sentences at a time; its thread pool only spun beside the
    # embedder's lanes (40 % of this child's CPU on 40 pages), so it counts on one thread.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


def _prepare(kind: str, data: bytes) -> tuple[list[Chunk], int | None] | str:
    """In the child: chunks and page count, or the message of an `ExtractionFailed` (the tokenizer loads once)."""
    global _counter
    if _counter is None:
        _counter = (
            ModelTokenCounter.from_file(_tokenizer_file) if _tokenizer_file else ModelTokenCounter.from_model_dir()
        )
    try:
        sections = extract(kind, data)
    except ExtractionFailed as exc:
        return exc.message
    pages = max((s.page or 0 for s in sections), default=0) or None
    return chunk(sections, _counter), pages

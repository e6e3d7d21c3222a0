"""The ingestion job (extract -> chunk -> embed -> index) and its watchdog."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from arq import Retry, cron

from switchboard.agents import UsageSubject, record_tokens
from switchboard.ingestion.errors import ExtractionFailed
from switchboard.ingestion.index import delete_chunks, write_chunks
from switchboard.ingestion.models import Collection, Document
from switchboard.ingestion.resources import embedding_model_name, pipeline_of
from switchboard.ingestion.service import document_audience, document_stream, ready_message
from switchboard.platform import leases
from switchboard.platform.events import Audience
from switchboard.platform.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BATCH = 64
QUEUED_GRACE = timedelta(seconds=60)


class _Progress:
    """Every step goes to the document's event stream; the row's `progress` is refreshed at most every
    `ROW_EVERY` seconds of the document's own work (the status changes write it with them), so a
    small document costs no extra writes, even after a wait for its turn, and a large one a few."""

    ROW_EVERY = 1.0

    def __init__(self, runtime: Runtime, lease: leases.Lease[Document]) -> None:
        self.runtime, self.lease = runtime, lease
        self.row_written = time.monotonic()
        self.audience: Audience | None = None

    def begin(self) -> None:
        """The document's work begins (after its wait for a place in the pipeline): the row is up to date now."""
        self.row_written = time.monotonic()

    async def __call__(
        self, update_type: str, message: str, progress: float | None = None, *, row: bool | None = None, **fields: Any
    ) -> None:
        """Append the event; the row's progress too when `row` (None: if `ROW_EVERY` has passed; False: never).

        Only while this job holds the document's lease: one that lost it writes nothing on the row.
        """
        if progress is not None and (row or (row is None and time.monotonic() - self.row_written >= self.ROW_EVERY)):
            self.row_written = time.monotonic()
            await self.lease.update(progress=progress)
        document_id = self.lease.row.id
        if self.audience is None:
            self.audience = document_audience(await Collection.get(id=self.lease.row.collection_id))
        await self.runtime.events.append(
            document_stream(document_id),
            update_type,
            message,
            audience=self.audience,
            progress=progress,
            document_id=str(document_id),
            **fields,
        )


async def ingest_document(ctx: dict[str, Any], document_id: str) -> str:
    """Process one document; safe to run twice (a retry replaces partial chunks)."""
    runtime: Runtime = ctx["runtime"]
    lease = await leases.take(
        Document, document_id, seconds=runtime.settings.document_lease_seconds, statuses=("pending", "processing")
    )
    if lease is None:
        return "finished, gone, or another job holds it"
    document, report = lease.row, _Progress(runtime, lease)
    async with lease.held():
        attempts = document.attempts + 1
        if attempts > MAX_ATTEMPTS:
            return await _fail(lease, report, f"Processing stopped after {MAX_ATTEMPTS} attempts; upload it again")
        await lease.update(status="processing", attempts=attempts, error=None, progress=0.02)
        try:
            # Chunks are written only after `attempts` is counted, so a first attempt finds none to replace.
            count, pages, tokens = await _process(runtime, document, report, replace=attempts > 1)
        except ExtractionFailed as exc:
            return await _fail(lease, report, exc.message)
        except Exception as exc:
            if attempts < MAX_ATTEMPTS:
                log.warning("ingesting %s failed (attempt %s), retrying: %r", document.id, attempts, exc)
                await report("retrying", "Something went wrong; trying again", progress=0.0, row=True)
                raise Retry(defer=attempts * 5) from exc
            log.exception("ingesting %s failed for good", document.id)
            return await _fail(lease, report, f"Processing failed ({type(exc).__name__}); upload it again")
        if not await lease.finish(
            status="completed", progress=1.0, chunk_count=count, page_count=pages, processed_at=datetime.now(UTC)
        ):
            return _taken_over(document)
        await report("complete", ready_message(count), progress=1.0, row=False, chunk_count=count)
        # what the embedding took, as a usage record of the uploader (once: only the lease's holder gets here)
        subject = UsageSubject(document.org_id, document.uploaded_by, "ingest", str(document.id))
        try:
            await record_tokens(subject, embedding_model_name(runtime.settings), tokens)
        except Exception:  # the document is indexed and said so; a lost record is a gap in the usage only
            log.exception("recording the embedding usage of %s failed", document.id)
    return "completed"


async def _process(
    runtime: Runtime, document: Document, report: _Progress, *, replace: bool
) -> tuple[int, int | None, int]:
    """Index the document's chunks (replacing those of an earlier attempt when `replace`): their count, the pages
    and the tokens embedded."""
    pipeline = pipeline_of(runtime)
    async with pipeline.slot() as slot:
        report.begin()
        await report("processing", "Reading the file", progress=0.02, row=False)
        data = await runtime.storage.read(document.storage_key)
        pieces, pages = await pipeline.prepare(document.kind, data)
        del data
        if not pieces:
            raise ExtractionFailed("The document has no text to index")
        await report("extracted", f"{len(pieces)} passages to index", progress=0.1, chunks=len(pieces), pages=pages)
        if replace:
            await delete_chunks(document.id)
        batches = [pieces[start : start + BATCH] for start in range(0, len(pieces), BATCH)]
        # Every batch is queued at once, so the embedder works on while this job writes; once it has
        # taken the last batch, the slot goes to the next document (see `IngestionPipeline.slot`).
        queued = [pipeline.embed(batch, slot=slot if batch is batches[-1] else None) for batch in batches]
        try:
            done = 0
            for batch, vectors in zip(batches, queued, strict=True):
                await write_chunks(document.id, document.org_id, document.collection_id, batch, await vectors)
                done += len(batch)
                await report(
                    "progress", f"Indexed {done} of {len(pieces)} passages", progress=0.1 + 0.9 * done / len(pieces)
                )
        finally:
            pipeline.drop(queued)
    return len(pieces), pages, sum(piece.token_count for piece in pieces)


async def _fail(lease: leases.Lease[Document], report: _Progress, reason: str) -> str:
    """Mark the document failed with `reason` and remove its chunks, if the lease is still ours."""
    if not await lease.finish(status="failed", error=reason, processed_at=datetime.now(UTC)):
        return _taken_over(lease.row)
    await delete_chunks(lease.row.id)
    await report("error", reason, progress=None)
    return "failed"


def _taken_over(document: Document) -> str:
    # the watchdog thought this worker dead and another one has the document now: it decides
    log.warning("lost the lease on %s before it was finished; another worker completes it", document.id)
    return "taken over"


async def watch_documents(ctx: dict[str, Any]) -> int:
    """Queue again documents whose worker died (lease ran out) or whose job was lost before it started."""
    runtime: Runtime = ctx["runtime"]
    # each with what names its lapse: a lease's end, or a pending document's upload time
    stale = dict(await leases.abandoned(Document, ("processing",)))
    stale.update(
        await Document.filter(
            status="pending", lease_until__isnull=True, created_at__lt=datetime.now(UTC) - QUEUED_GRACE
        ).values_list("id", "created_at")
    )
    for document_id, lapsed in stale.items():
        # one job per lapse, however many beats see it before a worker takes it
        job_id = f"ingest:{document_id}:recover:{lapsed.timestamp():.3f}"
        await runtime.queue.enqueue("ingest_document", str(document_id), job_id=job_id)
    return len(stale)


JOBS = [ingest_document]
CRON = [cron(watch_documents, second=set(range(2, 60, 5)), unique=True, run_at_startup=True)]

"""Documents: accept uploads, list and read them, move and delete them, and search them."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from switchboard.ingestion import collections, search
from switchboard.ingestion.errors import DuplicateDocument
from switchboard.ingestion.extraction import HEAD_SIZE
from switchboard.ingestion.extraction.detect import detect_type
from switchboard.ingestion.models import Chunk, Collection, Document
from switchboard.ingestion.resources import query_cache_of
from switchboard.ingestion.upload import ReceivedFile, received_content
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from switchboard.platform.events import Audience, Event, ending
from switchboard.platform.ids import parse_id
from switchboard.platform.runtime import Runtime

log = logging.getLogger(__name__)


def document_stream(document_id: uuid.UUID | str) -> str:
    """Event stream name of a document's processing."""
    return f"document:{document_id}"


def ready_message(passages: int) -> str:
    """What a person reads when their document is ready."""
    return f"Ready: {passages} passage{'' if passages == 1 else 's'} indexed"


def ended_events(document: Document) -> list[Event] | None:
    """The end of a document's processing, told once its stream has expired (None while it goes on)."""
    at = document.processed_at or document.updated_at
    fields = {"task_id": str(document.id), "document_id": str(document.id)}
    if document.status == "completed":
        message = ready_message(document.chunk_count or 0)
        return [ending("complete", at, message=message, progress=1.0, chunk_count=document.chunk_count, **fields)]
    if document.status == "failed":
        return [ending("error", at, message=document.error or "Processing failed", progress=None, **fields)]
    return None


def document_audience(collection: Collection) -> Audience:
    """Who sees a document's processing on the org's live stream: the org for an org collection, else its owner."""
    if collection.scope == "org" or collection.owner_id is None:
        return Audience(collection.org_id, "document")
    return Audience.of_user(collection.org_id, "document", collection.owner_id)


async def accept_upload(
    principal: Principal, received: ReceivedFile, collection_id: str | None, runtime: Runtime
) -> Document:
    """Check, store and register an upload, and queue its processing; nothing is left behind on refusal."""
    try:
        collection = await collections.writable(principal, collection_id)
        if received.size == 0:
            raise ValidationFailed(
                "The file is empty", code="empty_file", details=[{"field": "file", "message": "empty file"}]
            )
        kind = detect_type(received.filename, received.head(HEAD_SIZE))
        existing = await Document.get_or_none(collection_id=collection.id, sha256=received.sha256)
        if existing is not None:
            raise DuplicateDocument(details={"document_id": str(existing.id)})
        document_id = uuid.uuid4()
        storage_key = f"documents/{principal.org_id}/{document_id}"
        await runtime.storage.put_file(storage_key, received.path)
        try:
            document = await Document.create(
                id=document_id,
                org_id=principal.org_id,
                collection=collection,
                uploaded_by=principal.user_id,
                name=received.filename[:300],
                kind=kind,
                content_type=received.content_type[:128],
                size=received.size,
                sha256=received.sha256,
                storage_key=storage_key,
            )
        except IntegrityError:  # the same file raced in through another request
            await runtime.storage.delete(storage_key)
            existing = await Document.get_or_none(collection_id=collection.id, sha256=received.sha256)
            raise DuplicateDocument(details={"document_id": str(existing.id) if existing else None}) from None
        except BaseException:  # no row, no file: nothing is left behind
            await runtime.storage.delete(storage_key)
            raise
    finally:
        received.discard()
    await runtime.events.append(
        document_stream(document.id),
        "queued",
        "Waiting for a worker",
        audience=document_audience(collection),
        progress=0.0,
        document_id=str(document.id),
    )
    await runtime.queue.enqueue("ingest_document", str(document.id), job_id=f"ingest:{document.id}")
    await audit.record(
        "document.uploaded",
        actor=principal,
        target_type="document",
        target_id=document.id,
        details={"name": document.name, "size": document.size},
    )
    return document


async def accept_content(
    principal: Principal, filename: str, data: bytes, collection_id: str | None, runtime: Runtime
) -> Document:
    """A document given whole rather than uploaded (a job's input): checked, stored and queued as an upload is."""
    if len(data) > runtime.settings.max_upload_bytes:
        raise PayloadTooLarge(f"The file is larger than {runtime.settings.max_upload_bytes // (1024 * 1024)} MB")
    received = await asyncio.to_thread(received_content, filename, data, runtime.settings.data_dir / "tmp")
    return await accept_upload(principal, received, collection_id, runtime)


async def get(principal: Principal, document_id: str) -> Document:
    """A document in a collection the caller can read, or NotFound."""
    visible_ids = await collections.searchable(principal, None)
    document = await Document.get_or_none(id=parse_id(document_id, "Document"), collection_id__in=visible_ids)
    if document is None:
        raise NotFound("Document not found")
    return document


async def list_documents(
    principal: Principal, *, collection_id: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[Document], int]:
    """Documents the caller can read, newest first."""
    if collection_id is not None:
        visible_ids = [(await collections.readable(principal, collection_id)).id]
    else:
        visible_ids = await collections.searchable(principal, None)
    query = Document.filter(collection_id__in=visible_ids)
    if status:
        query = query.filter(status=status)
    return await query.order_by("-created_at").offset(offset).limit(limit), await query.count()


def _check_may_change(principal: Principal, collection: Collection) -> None:
    """Org documents change only by admins; personal ones only by their owner (others do not see them)."""
    if collection.scope == "org" and not principal.is_admin:
        raise Forbidden("Only an organization admin can change documents of an org collection")
    if collection.scope == "personal" and collection.owner_id != principal.user_id:
        raise NotFound("Document not found")


async def delete(principal: Principal, document_id: str, runtime: Runtime) -> None:
    """Delete the document, its chunks and vectors, and its file."""
    document = await get(principal, document_id)
    collection = await Collection.get(id=document.collection_id)
    _check_may_change(principal, collection)
    await remove(document, runtime)
    await audit.record(
        "document.deleted",
        actor=principal,
        target_type="document",
        target_id=document.id,
        details={"name": document.name},
    )
    # its stream ends, and live lists of the org drop it (the event goes to whoever saw its processing)
    try:
        await runtime.events.append(
            document_stream(document.id),
            "deleted",
            f"{document.name} was deleted",
            audience=document_audience(collection),
            document_id=str(document.id),
        )
    except Exception:  # the document is gone either way; a list that missed it drops it when it next reads
        log.warning("telling the org that document %s was deleted failed", document.id, exc_info=True)


async def delete_collection(principal: Principal, collection_id: str, runtime: Runtime, scope: str) -> None:
    """Delete a collection with the documents in it (their files too); General stays."""
    for document_id in await collections.delete(principal, collection_id, scope):
        # only what is still in it: a document moved out meanwhile lives on where it went
        document = await Document.get_or_none(id=document_id, collection_id=collection_id)
        if document is not None:
            await remove(document, runtime)
    try:
        await Collection.filter(id=collection_id).delete()
    except IntegrityError:  # a document was moved in meanwhile: it stays, and so does the collection
        raise Conflict(
            "A document came into this collection meanwhile; delete the collection again", code="collection_changed"
        ) from None


async def remove(document: Document, runtime: Runtime) -> None:
    """Rows first (chunks cascade), then the file: a failure never leaves rows pointing at nothing."""
    await document.delete()
    await runtime.storage.delete(document.storage_key)


async def move(principal: Principal, document_id: str, collection_id: str, runtime: Runtime) -> Document:
    """Move a document to another collection: between your own; into, out of and between the org's, for admins.

    Whoever may change the document where it is (its owner; an admin for an org collection) may move it where
    they may add documents. A document still being indexed stays where it is (409 `document_processing`).
    """
    document = await get(principal, document_id)
    source = await Collection.get(id=document.collection_id)
    _check_may_change(principal, source)
    target = await collections.writable(principal, collection_id)
    if target.id == source.id:
        return document
    if document.status not in ("completed", "failed"):
        raise Conflict("This document is still being indexed; move it once it is ready", code="document_processing")
    if await Document.filter(collection_id=target.id, sha256=document.sha256).exists():
        raise DuplicateDocument()
    try:
        async with in_transaction():  # the document and its passages move together, or neither does
            document.collection_id = target.id
            await document.save(update_fields=["collection_id", "updated_at"])
            await Chunk.filter(document_id=document.id).update(collection_id=target.id)
    except IntegrityError:  # the same content reached the target meanwhile
        raise DuplicateDocument() from None
    await audit.record(
        "document.moved",
        actor=principal,
        target_type="document",
        target_id=document.id,
        details={"from": str(source.id), "to": str(target.id)},
    )
    # live lists read it again: it appears where it is now seen, and leaves where it no longer is. Not on the
    # document's own stream, whose last event is how its indexing ended (a progress reader waits for that).
    # Into a personal collection, the org hears only that it left (that collection is nobody else's business).
    private = target.scope == "personal"
    try:
        await runtime.events.append(
            f"document-moves:{document.id}",
            "moved",
            f"{document.name} left {source.name}" if private else f"{document.name} moved to {target.name}",
            audience=document_audience(source if private else target),
            document_id=str(document.id),
            **({} if private else {"collection_id": str(target.id)}),
        )
    except Exception:  # the move stands; a list that missed it shows it right when it next reads
        log.warning("telling the org that document %s moved failed", document.id, exc_info=True)
    return document


async def chunks(principal: Principal, document_id: str, limit: int, offset: int) -> tuple[list[Chunk], int]:
    """The document's chunks, in order."""
    document = await get(principal, document_id)
    query = Chunk.filter(document_id=document.id)
    return await query.order_by("index").offset(offset).limit(limit), await query.count()


async def query(
    principal: Principal,
    runtime: Runtime,
    text: str,
    *,
    mode: search.Mode = "hybrid",
    collection_ids: list[uuid.UUID] | None = None,
    document_ids: list[uuid.UUID] | None = None,
    top_k: int = 10,
    research: bool = False,
) -> list[search.SearchHit]:
    """Chunks of documents the caller can read that answer `text` best."""
    visible = await collections.searchable(principal, collection_ids, research=research)
    if not visible:
        return []
    pool = max(top_k * 5, 50)
    ef = max(runtime.settings.search_ef, pool)
    if mode == "text":
        return await search.text(text, visible, document_ids, top_k)
    vector = await query_cache_of(runtime).embed_query(text)
    cut_off = runtime.settings.search_min_similarity
    if mode == "semantic":
        found = await search.semantic(vector, visible, document_ids, top_k, ef)
        return [h for h in found if h.similarity is not None and h.similarity >= cut_off]
    semantic_hits, text_hits = await asyncio.gather(
        search.semantic(vector, visible, document_ids, pool, ef),
        search.text(text, visible, document_ids, pool, vector=vector),
    )

    # fuse the passages that clear the cut-off: words-only matches are measured against the query too
    def clears(hit: search.SearchHit) -> bool:
        return hit.similarity is not None and hit.similarity >= cut_off

    return search.fuse([[h for h in semantic_hits if clears(h)], [h for h in text_hits if clears(h)]], top_k)


def status_of(document: Document) -> dict[str, Any]:
    """The processing state a person watches."""
    return {
        "id": str(document.id),
        "status": document.status,
        "progress": round(document.progress, 3),
        "error": document.error,
        "chunk_count": document.chunk_count,
    }

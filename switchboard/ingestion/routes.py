"""`/api/v1/documents/…`: upload, follow processing, read, move, delete, search; personal and org collections."""

from __future__ import annotations

from urllib.parse import quote

from quart import Blueprint, Response, request
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.ingestion import collections, service
from switchboard.ingestion.models import Collection, Document
from switchboard.ingestion.schemas import (
    ChunkOut,
    CollectionIn,
    CollectionOut,
    CollectionPatch,
    DocumentOut,
    DocumentQuery,
    DocumentStatus,
    MoveIn,
    SearchIn,
    SearchOut,
    SearchResult,
    UploadAccepted,
)
from switchboard.ingestion.upload import receive_upload
from switchboard.platform.auth import Principal, current_principal, require_admin, require_user
from switchboard.platform.idempotency import idempotent
from switchboard.platform.openapi import attachment, event_stream, no_content, upload_form
from switchboard.platform.pagination import Page, PageQuery
from switchboard.platform.sse import stream_response
from switchboard.platform.web import resume_point, runtime

documents = Blueprint("documents", __name__, url_prefix="/api/v1/documents")
COLLECTION_FIELD = {"type": "string", "format": "uuid", "description": "The collection to file it in"}


def _document(d: Document) -> DocumentOut:
    return DocumentOut.model_validate(d, from_attributes=True)


def _collection(c: Collection) -> CollectionOut:
    return CollectionOut.model_validate(c, from_attributes=True)


async def _upload(principal: Principal, default_collection: str | None = None) -> tuple[UploadAccepted, int]:
    rt = runtime()
    received = await receive_upload(
        request.headers.get("Content-Type"), request.body, rt.settings.data_dir / "tmp", rt.settings.max_upload_bytes
    )
    collection_id = received.fields.get("collection_id") or default_collection
    document = await service.accept_upload(principal, received, collection_id, rt)
    return UploadAccepted(
        id=document.id, status=document.status, name=document.name, collection_id=document.collection_id
    ), 202


@documents.post("/upload")
@require_user
@upload_form("The document", {"collection_id": COLLECTION_FIELD})
@idempotent
@validate_response(UploadAccepted, 202)
async def upload() -> tuple[UploadAccepted, int]:
    """Upload a document (multipart `file`, optional `collection_id`); processing runs in a worker."""
    return await _upload(current_principal())


@documents.get("")
@require_user
@validate_querystring(DocumentQuery)
@validate_response(Page[DocumentOut])
async def list_documents(query_args: DocumentQuery) -> Page[DocumentOut]:
    """Documents the caller can read, newest first."""
    found, total = await service.list_documents(
        current_principal(),
        collection_id=str(query_args.collection_id) if query_args.collection_id else None,
        status=query_args.status,
        limit=query_args.limit,
        offset=query_args.offset,
    )
    return Page(items=[_document(d) for d in found], total=total, limit=query_args.limit, offset=query_args.offset)


@documents.post("/query")
@require_user
@validate_request(SearchIn)
@validate_response(SearchOut)
async def query(data: SearchIn) -> SearchOut:
    """Search the caller's documents by meaning, by words, or both (hybrid, the default)."""
    hits = await service.query(
        current_principal(),
        runtime(),
        data.query,
        mode=data.mode,
        collection_ids=data.collection_ids,
        document_ids=data.document_ids,
        top_k=data.top_k,
    )
    results = [
        SearchResult(
            chunk_id=h.chunk_id,
            document_id=h.document_id,
            document_name=h.document_name,
            text=h.text,
            score=h.score,
            similarity=h.similarity,
            found_by=list(h.found_by),
            page=h.page,
            heading=h.heading,
        )
        for h in hits
    ]
    return SearchOut(query=data.query, mode=data.mode, results=results)


@documents.get("/collections")
@require_user
@validate_response(list[CollectionOut])
async def list_collections() -> list[CollectionOut]:
    """The caller's collections (General first) and the org's collections."""
    return [_collection(c) for c in await collections.list_personal(current_principal())]


@documents.post("/collections")
@require_user
@validate_request(CollectionIn)
@validate_response(CollectionOut, 201)
async def create_collection(data: CollectionIn) -> tuple[CollectionOut, int]:
    """A new personal collection."""
    created = await collections.create(current_principal(), data.name, data.description, data.include_in_research)
    return _collection(created), 201


@documents.get("/collections/<collection_id>")
@require_user
@validate_response(CollectionOut)
async def get_collection(collection_id: str) -> CollectionOut:
    """One collection."""
    return _collection(await collections.readable(current_principal(), collection_id))


@documents.put("/collections/<collection_id>")
@require_user
@validate_request(CollectionPatch)
@validate_response(CollectionOut)
async def update_collection(collection_id: str, data: CollectionPatch) -> CollectionOut:
    """Rename a personal collection, or change whether agents' research reads it."""
    updated = await collections.update(
        current_principal(),
        collection_id,
        name=data.name,
        description=data.description,
        include_in_research=data.include_in_research,
    )
    return _collection(updated)


@documents.delete("/collections/<collection_id>")
@require_user
@no_content("Deleted with its documents")
async def delete_collection(collection_id: str) -> tuple[str, int]:
    """Delete a personal collection and its documents (General cannot be deleted)."""
    await service.delete_collection(current_principal(), collection_id, runtime(), "personal")
    return "", 204


@documents.get("/admin/collections")
@require_admin
@validate_response(list[CollectionOut])
async def list_org_collections() -> list[CollectionOut]:
    """The org's collections."""
    found = await collections.list_personal(current_principal())
    return [_collection(c) for c in found if c.scope == "org"]


@documents.post("/admin/collections")
@require_admin
@validate_request(CollectionIn)
@validate_response(CollectionOut, 201)
async def create_org_collection(data: CollectionIn) -> tuple[CollectionOut, int]:
    """A new org collection, readable by every member."""
    created = await collections.create(
        current_principal(), data.name, data.description, data.include_in_research, scope="org"
    )
    return _collection(created), 201


@documents.delete("/admin/collections/<collection_id>")
@require_admin
@no_content("Deleted with its documents")
async def delete_org_collection(collection_id: str) -> tuple[str, int]:
    """Delete an org collection and its documents."""
    await service.delete_collection(current_principal(), collection_id, runtime(), "org")
    return "", 204


@documents.post("/admin/upload")
@require_admin
@upload_form("The document", {"collection_id": COLLECTION_FIELD})
@idempotent
@validate_response(UploadAccepted, 202)
async def admin_upload() -> tuple[UploadAccepted, int]:
    """Upload into an org collection (`collection_id` form field)."""
    return await _upload(current_principal())


@documents.get("/<document_id>")
@require_user
@validate_response(DocumentOut)
async def get_document(document_id: str) -> DocumentOut:
    """A document's metadata."""
    return _document(await service.get(current_principal(), document_id))


@documents.delete("/<document_id>")
@require_user
@no_content("Deleted")
async def delete_document(document_id: str) -> tuple[str, int]:
    """Delete a document with its chunks, vectors and file."""
    await service.delete(current_principal(), document_id, runtime())
    return "", 204


@documents.get("/<document_id>/status")
@require_user
@validate_response(DocumentStatus)
async def document_status(document_id: str) -> DocumentStatus:
    """Processing status and progress (0..1)."""
    return DocumentStatus(**service.status_of(await service.get(current_principal(), document_id)))


@documents.get("/<document_id>/progress")
@require_user
@event_stream("The document's processing events as they happen")
async def document_progress(document_id: str) -> Response:
    """SSE of the document's processing; resumes after `?last_id=` or `Last-Event-ID`."""
    document = await service.get(current_principal(), document_id)
    rt = runtime()
    return await stream_response(
        rt.events, service.document_stream(document.id), resume_point(), rt.settings.sse_heartbeat_seconds,
        ended=service.ended_events(document),
    )  # fmt: skip


@documents.get("/<document_id>/download")
@require_user
@attachment("*/*", "The original bytes, with the media type the document was uploaded with")
async def download(document_id: str) -> Response:
    """The original bytes."""
    document = await service.get(current_principal(), document_id)
    response = Response(
        runtime().storage.stream(document.storage_key), mimetype=document.content_type or "application/octet-stream"
    )
    response.headers["Content-Length"] = str(document.size)
    # ASCII fallback for old clients, the exact name (RFC 5987) for the rest
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in document.name)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(document.name)}"
    )
    return response


@documents.get("/<document_id>/chunks")
@require_user
@validate_querystring(PageQuery)
@validate_response(Page[ChunkOut])
async def document_chunks(document_id: str, query_args: PageQuery) -> Page[ChunkOut]:
    """The document's passages, in order."""
    found, total = await service.chunks(current_principal(), document_id, query_args.limit, query_args.offset)
    items = [ChunkOut.model_validate(c, from_attributes=True) for c in found]
    return Page(items=items, total=total, limit=query_args.limit, offset=query_args.offset)


@documents.put("/<document_id>/move")
@require_user
@validate_request(MoveIn)
@validate_response(DocumentOut)
async def move(document_id: str, data: MoveIn) -> DocumentOut:
    """Move a document to another collection: between your own; into, out of and between the org's, for admins.

    403 for an org collection without being an admin; 409 `document_processing` while it is being indexed,
    `duplicate_document` when the target holds the same content already.
    """
    return _document(await service.move(current_principal(), document_id, str(data.collection_id), runtime()))

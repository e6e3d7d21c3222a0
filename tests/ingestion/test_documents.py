"""Documents end to end: upload -> a worker process ingests -> search finds it; bad input loses nothing."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from switchboard.ingestion.models import Chunk, Document
from tests.ingestion import samples
from tests.support.accounts import upload

SENTENCE = "The lighthouse keeper logs every passing ship in a leather-bound ledger."

FILES = {
    "notes.txt": (f"Harbour notes.\n\n{SENTENCE}\n\nTides were calm.").encode(),
    "guide.md": f"# Harbour guide\n\nIntro text.\n\n## Records\n\n{SENTENCE}\n".encode(),
    "page.html": f"<html><body><h1>Harbour</h1><p>{SENTENCE}</p></body></html>".encode(),
    "ships.csv": b"ship,keeper_note\nAurora," + SENTENCE.encode() + b"\nBetsy,arrived late\n",
    "report.pdf": samples.pdf(["Cover page of the harbour report.", SENTENCE]),
    "manual.docx": samples.word([("h1", "Harbour manual"), ("p", SENTENCE)]),
    "log.xlsx": samples.workbook({"Log": [["ship", "note"], ["Aurora", SENTENCE], ["Betsy", "late"]]}),
}


async def wait_processed(account, document_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await (await account.get(f"/api/v1/documents/{document_id}/status")).get_json()
        if status["status"] in ("completed", "failed"):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"document {document_id} still {status} after {timeout}s")


async def search(account, query: str, mode: str, **extra) -> list[dict]:
    response = await account.post("/api/v1/documents/query", json={"query": query, "mode": mode, **extra})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return (await response.get_json())["results"]


async def test_every_supported_type_is_found_by_each_search_mode(signup, worker):
    ada = await signup()
    ids = {}
    for name, content in FILES.items():
        response = await upload(ada, name, content)
        assert response.status_code == 202, (name, await response.get_data(as_text=True))
        body = await response.get_json()
        assert body["status"] == "pending"
        ids[body["id"]] = name
    for document_id, name in ids.items():
        status = await wait_processed(ada, document_id)
        assert status["status"] == "completed", (name, status)
        assert status["progress"] == 1.0 and status["chunk_count"] >= 1
    for mode, query in (
        ("hybrid", "who records the ships passing by?"),
        ("semantic", "who writes down every vessel that sails past"),
        ("text", "lighthouse ledger"),
    ):
        results = await search(ada, query, mode, top_k=20)
        found = {ids[r["document_id"]] for r in results if "leather-bound ledger" in r["text"]}
        assert found == set(FILES), (mode, sorted(set(FILES) - found))
    pdf_hit = next(
        r
        for r in await search(ada, "lighthouse keeper ledger", "text", top_k=20)
        if ids[r["document_id"]] == "report.pdf" and "ledger" in r["text"]
    )
    assert pdf_hit["page"] == 2, "PDF page numbers are kept"


def test_a_worker_loads_its_embedding_model_before_it_takes_jobs(worker):
    # The model takes seconds to load; the first question or document after a worker starts must
    # not wait for it. arq takes jobs only once the start-up hook has returned.
    log = worker.output()
    assert log.index("embedding model loaded in") < log.index("worker ready: taking jobs")


async def test_progress_stream_and_download(signup, worker):
    ada = await signup()
    document = await (await upload(ada, "notes.txt", FILES["notes.txt"])).get_json()
    await wait_processed(ada, document["id"])
    stream = await ada.get(f"/api/v1/documents/{document['id']}/progress")
    text = await stream.get_data(as_text=True)
    kinds = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]
    assert kinds[0] == "queued" and kinds[-1] == "complete" and "progress" in kinds
    download = await ada.get(f"/api/v1/documents/{document['id']}/download")
    assert await download.get_data() == FILES["notes.txt"]
    chunks = await (await ada.get(f"/api/v1/documents/{document['id']}/chunks")).get_json()
    assert chunks["total"] >= 1 and SENTENCE in " ".join(c["text"] for c in chunks["items"])


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("photo.pdf", samples.png(), 415, "unsupported_media_type"),
        ("tool.exe", samples.EXE, 415, "unsupported_media_type"),
        ("setup.txt", samples.EXE, 415, "unsupported_media_type"),
        ("empty.txt", b"", 422, "empty_file"),
    ],
)
async def test_refused_uploads_leave_nothing_behind(signup, settings, name, content, status, code):
    ada = await signup()
    response = await upload(ada, name, content)
    assert response.status_code == status, await response.get_data(as_text=True)
    assert (await response.get_json())["error"] == code
    assert await Document.all().count() == 0
    files = settings.data_dir / "files" / "documents"
    assert not files.exists() or not any(p.is_file() for p in files.rglob("*"))
    tmp = settings.data_dir / "tmp"
    assert not tmp.exists() or not any(tmp.iterdir()), "temporary upload files are removed"


async def test_oversize_upload_is_413_before_reading_it(signup, settings, app):
    ada = await signup()
    too_big = settings.max_upload_bytes + 1
    response = await ada.post(
        "/api/v1/documents/upload",
        data=b"x" * 1024,
        headers={"Content-Type": "multipart/form-data; boundary=abc", "Content-Length": str(too_big + 70_000)},
    )
    assert response.status_code == 413 and (await response.get_json())["error"] == "payload_too_large"
    assert await Document.all().count() == 0


async def test_duplicate_is_409_with_the_existing_id(signup):
    ada = await signup()
    first = await (await upload(ada, "notes.txt", FILES["notes.txt"])).get_json()
    again = await upload(ada, "copy-of-notes.txt", FILES["notes.txt"])
    assert again.status_code == 409
    body = await again.get_json()
    assert body["error"] == "duplicate_document" and body["details"]["document_id"] == first["id"]
    other = await (await ada.post("/api/v1/documents/collections", json={"name": "Other"})).get_json()
    elsewhere = await upload(ada, "notes.txt", FILES["notes.txt"], collection_id=other["id"])
    assert elsewhere.status_code == 202, "the same file may live in another collection"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50, "pdf"),
        ("locked.pdf", samples.encrypted_pdf(["secret plans"], user_password="hunter2"), "password"),
        ("scan.pdf", samples.scanned_pdf(), "text"),
    ],
)
async def test_unreadable_documents_fail_with_a_reason(signup, worker, name, content, reason):
    ada = await signup()
    document = await (await upload(ada, name, content)).get_json()
    status = await wait_processed(ada, document["id"])
    assert status["status"] == "failed"
    assert reason in status["error"].lower()
    assert await Chunk.filter(document_id=document["id"]).count() == 0


async def test_delete_removes_chunks_vectors_and_file(signup, worker, settings):
    ada = await signup()
    document = await (await upload(ada, "notes.txt", FILES["notes.txt"])).get_json()
    await wait_processed(ada, document["id"])
    stored = await Document.get(id=document["id"])
    path = settings.data_dir / "files" / stored.storage_key
    assert path.exists() and await Chunk.filter(document_id=document["id"]).count() > 0
    assert (await ada.delete(f"/api/v1/documents/{document['id']}")).status_code == 204
    assert not path.exists()
    assert await Chunk.filter(document_id=document["id"]).count() == 0
    assert (await ada.get(f"/api/v1/documents/{document['id']}")).status_code == 404
    assert await search(ada, "lighthouse ledger", "text") == []


async def test_collections_general_move_and_org_collections(signup, worker):
    from tests.support.accounts import join_org

    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    mine = await (await member.get("/api/v1/documents/collections")).get_json()
    general = next(c for c in mine if c["is_default"])
    assert general["name"] == "General"
    assert (await member.delete(f"/api/v1/documents/collections/{general['id']}")).status_code == 409
    archive = await (await member.post("/api/v1/documents/collections", json={"name": "Archive"})).get_json()
    document = await (await upload(member, "notes.txt", FILES["notes.txt"])).get_json()
    assert document["collection_id"] == general["id"]
    await wait_processed(member, document["id"])  # a document moves once it is indexed
    moved = await member.put(f"/api/v1/documents/{document['id']}/move", json={"collection_id": archive["id"]})
    assert moved.status_code == 200 and (await moved.get_json())["collection_id"] == archive["id"]
    # org collections: admins fill them, every member reads them, members cannot move into or out of them
    shared = await (await owner.post("/api/v1/documents/admin/collections", json={"name": "Handbook"})).get_json()
    assert (await member.post("/api/v1/documents/admin/collections", json={"name": "Nope"})).status_code == 403
    handbook = await upload(
        owner, "guide.md", FILES["guide.md"], collection_id=shared["id"], path="/api/v1/documents/admin/upload"
    )
    assert handbook.status_code == 202
    await wait_processed(owner, (await handbook.get_json())["id"])
    results = await search(member, "lighthouse keeper ledger", "text", collection_ids=[shared["id"]])
    assert results and results[0]["document_name"] == "guide.md"
    member_upload = await upload(member, "page.html", FILES["page.html"], collection_id=shared["id"])
    assert member_upload.status_code == 403
    into_org = await member.put(f"/api/v1/documents/{document['id']}/move", json={"collection_id": shared["id"]})
    assert into_org.status_code == 403, "only an admin adds to an org collection, by upload or by move"


async def test_an_admin_shares_a_document_with_the_org_and_takes_it_back(signup, worker):
    from switchboard.ingestion.models import Chunk, Document
    from tests.support.accounts import join_org

    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    shared = await (await owner.post("/api/v1/documents/admin/collections", json={"name": "Handbook"})).get_json()
    mine = next(c for c in await (await owner.get("/api/v1/documents/collections")).get_json() if c["is_default"])
    document = await (await upload(owner, "ships.csv", FILES["ships.csv"])).get_json()
    move = f"/api/v1/documents/{document['id']}/move"

    # still being indexed (as a retried job finds it): it stays where it is
    await wait_processed(owner, document["id"])
    await Document.filter(id=document["id"]).update(status="processing")
    busy = await owner.put(move, json={"collection_id": shared["id"]})
    assert busy.status_code == 409 and (await busy.get_json())["error"] == "document_processing"
    await Document.filter(id=document["id"]).update(status="completed")
    assert (await member.get(f"/api/v1/documents/{document['id']}")).status_code == 404

    moved = await owner.put(move, json={"collection_id": shared["id"]})
    assert moved.status_code == 200 and (await moved.get_json())["collection_id"] == shared["id"]
    # every member now reads it and finds its passages, which moved with it
    assert (await member.get(f"/api/v1/documents/{document['id']}")).status_code == 200
    found = await search(member, "lighthouse keeper ledger", "text", collection_ids=[shared["id"]])
    assert [r["document_name"] for r in found] == ["ships.csv"]
    assert {c.collection_id for c in await Chunk.filter(document_id=document["id"])} == {uuid.UUID(shared["id"])}
    # a member cannot take it out; the admin can, and it is theirs alone again
    taken = await member.put(move, json={"collection_id": shared["id"]})
    assert taken.status_code == 403
    back = await owner.put(move, json={"collection_id": mine["id"]})
    assert back.status_code == 200
    assert (await member.get(f"/api/v1/documents/{document['id']}")).status_code == 404
    assert await search(member, "lighthouse keeper ledger", "text") == []


async def test_download_keeps_a_non_ascii_name(signup):
    ada = await signup()
    document = await (await upload(ada, "Überblick 2026.txt", b"Eine kurze Notiz.")).get_json()
    response = await ada.get(f"/api/v1/documents/{document['id']}/download")
    assert await response.get_data() == b"Eine kurze Notiz."
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''%C3%9Cberblick%202026.txt" in disposition
    assert 'filename="_berblick 2026.txt"' in disposition

"""The seams are passed in: an app and its worker run on an in-memory storage and a recording event log."""

from __future__ import annotations

import asyncio
import contextvars
import time

from tortoise.context import TortoiseContext

from switchboard.app import create_app
from switchboard.ingestion.service import document_stream
from tests.support.accounts import sign_up, upload
from tests.support.doubles import MemoryStorage, RecordingEventLog

TEXT = b"Harbour notes.\n\nThe lighthouse keeper logs every passing ship in a leather-bound ledger.\n"


async def test_an_upload_is_stored_and_processed_through_the_seams_the_app_was_given(settings, migrated, clean):
    # Tortoise keeps its state in a context variable, shared by this session's tests: this app opens and
    # closes its own, in a context of its own, so the session's app keeps its database connections.
    await asyncio.create_task(_upload_through_the_seams(settings), context=contextvars.Context())


async def _upload_through_the_seams(settings) -> None:
    with TortoiseContext():
        await _upload(settings)


async def _upload(settings) -> None:
    storage, events = MemoryStorage(), RecordingEventLog()
    # its own queue: the session's worker processes (on the production seams) never take these jobs
    own = settings.model_copy(update={"queue_name": "switchboard:test-seams"})
    app = create_app(own, embedded_worker=True, storage=storage, events=events)
    async with app.test_app():
        ada = await sign_up(app)
        response = await upload(ada, "notes.txt", TEXT)
        assert response.status_code == 202, await response.get_data(as_text=True)
        document = await response.get_json()

        assert list(storage.blobs.values()) == [TEXT]  # the upload landed in the storage passed in
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status = await (await ada.get(f"/api/v1/documents/{document['id']}/status")).get_json()
            if status["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(0.1)
        assert status["status"] == "completed", status

        stream = document_stream(document["id"])
        assert events.types(stream)[0] == "queued" and events.types(stream)[-1] == "complete"
        # the document's progress stream is read from the same event log
        progress = await ada.get(f"/api/v1/documents/{document['id']}/progress")
        assert b"event: complete" in await progress.get_data()
        download = await ada.get(f"/api/v1/documents/{document['id']}/download")
        assert await download.get_data() == TEXT

        hits = await (await ada.post("/api/v1/documents/query", json={"query": "who logs the ships"})).get_json()
        assert hits["results"][0]["document_id"] == document["id"]

"""`switchboard ingest PATH... --collection NAME`: a corpus from disk becomes searchable."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from switchboard.ingestion import service
from switchboard.ingestion.models import Collection, Document
from switchboard.platform.auth import principal_for
from switchboard.platform.identity.service import create_admin
from tests.support.processes import process_env as child_env


async def _ingest(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "switchboard", "ingest", *args],
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=180,
    )


async def test_ingest_a_folder_into_a_collection(tmp_path: Path, app, process_env, worker, clean):
    corpus = tmp_path / "corpus"
    (corpus / "nested").mkdir(parents=True)
    (corpus / "tides.md").write_text("# Tides\n\nSpring tides follow the full moon by about two days.\n")
    (corpus / "nested" / "knots.txt").write_text("A bowline makes a fixed loop that does not slip.\n")
    (corpus / "nested" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a document: not picked up
    (corpus / ".hidden.txt").write_text("secret scratch notes")
    admin = await create_admin("librarian@example.com", "library pw 1")

    first = await _ingest(process_env, str(corpus), "--collection", "Seamanship")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 documents ready, 0 failed" in first.stdout
    collection = await Collection.get(owner_id=admin.id, name="Seamanship")
    names = sorted(await Document.filter(collection_id=collection.id).values_list("name", flat=True))
    assert names == ["knots.txt", "tides.md"]
    principal = await principal_for(admin.id, auth_method="cli", ip=None)
    hits = await service.query(principal, app.extensions["runtime"], "which knot makes a loop that holds")
    assert hits and hits[0].document_name == "knots.txt"
    assert (corpus / "tides.md").exists(), "the originals are left alone"

    again = await _ingest(process_env, str(corpus / "tides.md"), "--collection", "Seamanship")
    assert again.returncode == 0 and "already in the collection" in again.stderr


async def test_ingest_needs_an_owner(tmp_path: Path, process_env, migrated, clean):
    (tmp_path / "a.txt").write_text("some text")
    result = await _ingest(process_env, str(tmp_path / "a.txt"), "--email", "nobody@example.com")
    assert result.returncode != 0 and "no user nobody@example.com" in result.stderr

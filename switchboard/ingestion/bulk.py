"""Loading a corpus from disk: every file under the given paths, through the same checks as an upload."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.ingestion import collections, service
from switchboard.ingestion.extraction import KINDS
from switchboard.ingestion.models import Collection, Document
from switchboard.ingestion.upload import ReceivedFile
from switchboard.platform.auth import Principal
from switchboard.platform.errors import AppError
from switchboard.platform.runtime import Runtime

READ_CHUNK = 1024 * 1024


@dataclass
class BulkReport:
    """What happened to each file."""

    queued: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    document_ids: list[str] = field(default_factory=list)


def files_under(paths: Iterable[Path]) -> list[Path]:
    """Every non-hidden file under `paths` whose extension Switchboard reads, in a stable order."""
    found: list[Path] = []
    for path in paths:
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for candidate in candidates:
            hidden = any(part.startswith(".") for part in candidate.relative_to(path.parent).parts)
            if not hidden and candidate.suffix.lower().lstrip(".") in _EXTENSIONS:
                found.append(candidate)
    return found


_EXTENSIONS = set(KINDS) | {"markdown", "htm"}


async def collection_named(principal: Principal, name: str | None) -> Collection:
    """The caller's collection of that name (made if missing), or General."""
    if name is None:
        return await collections.general(principal)
    existing = await Collection.get_or_none(org_id=principal.org_id, owner_key=str(principal.user_id), name=name)
    return existing or await collections.create(principal, name, "", True)


def _received(path: Path, tmp_dir: Path) -> ReceivedFile:
    """A copy of the file in the upload area (the original is never touched), hashed."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="bulk-", delete=False) as copy, path.open("rb") as source:
        while piece := source.read(READ_CHUNK):
            digest.update(piece)
            copy.write(piece)
    return ReceivedFile(path.name, "application/octet-stream", Path(copy.name), path.stat().st_size, digest.hexdigest())


async def queue_files(
    runtime: Runtime, principal: Principal, files: list[Path], collection: Collection, max_bytes: int
) -> BulkReport:
    """Queue each file for ingestion; refusals (type, size, duplicate) are reported, not fatal."""
    report = BulkReport()
    for path in files:
        if (await asyncio.to_thread(path.stat)).st_size > max_bytes:
            report.skipped.append((str(path), f"larger than {max_bytes // (1024 * 1024)} MB"))
            continue
        received = await asyncio.to_thread(_received, path, runtime.settings.data_dir / "tmp")
        try:
            document = await service.accept_upload(principal, received, str(collection.id), runtime)
        except AppError as exc:
            report.skipped.append((str(path), exc.message))
            continue
        finally:
            received.discard()
        report.queued.append(str(path))
        report.document_ids.append(str(document.id))
    return report


async def statuses(document_ids: list[str]) -> dict[str, str]:
    """Current status of each document."""
    rows = await Document.filter(id__in=document_ids).values_list("id", "status")
    return {str(i): s for i, s in rows}

"""Seams for tests that pass them in: an in-memory storage and an event log that records every append."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from switchboard.platform.events import Audience, Entry, Event


class MemoryStorage:
    """Blobs in a dict (the `Storage` seam)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        self.blobs[key] = b"".join([chunk async for chunk in chunks])
        return len(self.blobs[key])

    async def put_file(self, key: str, path: Path) -> int:
        self.blobs[key] = path.read_bytes()
        path.unlink()
        return len(self.blobs[key])

    async def read(self, key: str) -> bytes:
        return self.blobs[key]

    async def stream(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        data = self.blobs[key]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    async def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    async def ping(self) -> None:
        return None


class RecordingEventLog:
    """Streams in memory, every appended event kept in `appended` (the `EventLog` seam)."""

    def __init__(self) -> None:
        self.streams: dict[str, list[Event]] = {}
        self.appended: list[tuple[str, Event]] = []
        self._changed = asyncio.Condition()
        self._next = 0

    async def append(
        self, stream: str, update_type: str, message: str = "", *, audience: Audience | None = None, **fields: Any
    ) -> Event:
        (event,) = await self.append_many(stream, [(update_type, message, fields)], audience=audience)
        return event

    async def append_many(
        self, stream: str, entries: Sequence[Entry], *, audience: Audience | None = None
    ) -> list[Event]:
        task_id, now = stream.rsplit(":", 1)[-1], time.time()
        added = []
        for update_type, message, fields in entries:
            self._next += 1
            payload = {"task_id": task_id, "update_type": update_type, "message": message, "timestamp": now, **fields}
            event = Event(f"{self._next}-0", update_type, payload)
            self.streams.setdefault(stream, []).append(event)
            self.appended.append((stream, event))
            added.append(event)
        async with self._changed:
            self._changed.notify_all()
        return added

    async def read(self, stream: str, after: str | None = None, *, block_ms: int | None = None) -> list[Event]:
        found = self._after(stream, after)
        if found or not block_ms:
            return found
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self._after(stream, after))), block_ms / 1000
                )
            except TimeoutError:
                return []
        return self._after(stream, after)

    async def read_all(self, stream: str) -> list[Event]:
        return list(self.streams.get(stream, []))

    async def exists(self, stream: str) -> bool:
        return stream in self.streams

    async def ping(self) -> None:
        return None

    def types(self, stream: str) -> list[str]:
        """The update types appended to `stream`, in order."""
        return [e.update_type for e in self.streams.get(stream, [])]

    def _after(self, stream: str, after: str | None) -> list[Event]:
        position = int((after or "0-0").split("-")[0])
        return [e for e in self.streams.get(stream, []) if int(e.id.split("-")[0]) > position]

"""Blob storage for uploaded files."""

from __future__ import annotations

import asyncio
import errno
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,500}$")


class Storage(Protocol):
    """Put, get and delete a blob by key."""

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Write the chunks under `key`; returns the byte count."""

    async def put_file(self, key: str, path: Path) -> int:
        """Store the file at `path` under `key`, taking it over (it is gone from `path`); returns the byte count."""

    async def read(self, key: str) -> bytes:
        """The whole blob."""

    def stream(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """The blob in pieces, for sending it without holding it in memory."""

    async def delete(self, key: str) -> None:
        """Remove the blob; a missing one is not an error."""

    async def ping(self) -> None:
        """Raise when the storage is unusable."""


class LocalStorage:
    """A folder on disk (the embedded default, or a mounted volume)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        """The file of `key`; refuses keys that would leave the root."""
        if not _KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Write to a temporary file, then rename, so a reader never sees half a blob."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        size = 0
        with tmp.open("wb") as out:
            async for chunk in chunks:
                await asyncio.to_thread(out.write, chunk)
                size += len(chunk)
        os.replace(tmp, target)
        return size

    async def put_file(self, key: str, path: Path) -> int:
        """Move the file in (a rename: an upload is not written twice); copied, then removed, from another disk."""
        target = self.path(key)
        try:
            return await asyncio.to_thread(_move, path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        size = await self.put_stream(key, _pieces(path))
        await asyncio.to_thread(path.unlink)
        return size

    async def read(self, key: str) -> bytes:
        """The whole blob."""
        return await asyncio.to_thread(self.path(key).read_bytes)

    def stream(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """The blob in pieces, read off the event loop."""
        return _pieces(self.path(key), chunk_size)

    async def delete(self, key: str) -> None:
        """Remove the blob; a missing one is not an error."""
        self.path(key).unlink(missing_ok=True)

    async def ping(self) -> None:
        """Raise when the folder cannot be written."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise OSError(f"{self.root} is not writable")


def _move(path: Path, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    size = path.stat().st_size
    os.replace(path, target)
    return size


async def _pieces(path: Path, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    """The file's bytes, `size` at a time, read off the event loop."""
    with path.open("rb") as f:
        while piece := await asyncio.to_thread(f.read, size):
            yield piece

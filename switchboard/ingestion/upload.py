"""Receiving an upload: multipart parsed as it streams in, the file spooled to disk and hashed on the way.

The body is never held in memory: each piece goes straight to a temporary file, and a file over
the limit stops the read at the first byte too many (a declared Content-Length over it is refused
before any is read).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header

from switchboard.platform.errors import BadRequest, PayloadTooLarge, ValidationFailed

FIELD_LIMIT = 4096  # a form field other than the file (e.g. collection_id) is small


@dataclass
class ReceivedFile:
    """The uploaded file, on disk until it is stored."""

    filename: str
    content_type: str
    path: Path
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)

    def head(self, size: int) -> bytes:
        """The first `size` bytes, for content sniffing."""
        with self.path.open("rb") as f:
            return f.read(size)

    def discard(self) -> None:
        """Remove the temporary file."""
        self.path.unlink(missing_ok=True)


class _Receiver:
    def __init__(self, tmp_dir: Path, max_bytes: int) -> None:
        self.tmp_dir = tmp_dir
        self.max_bytes = max_bytes
        self.headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self.name: str | None = None
        self.filename: str | None = None
        self.content_type = "application/octet-stream"
        self.file: IO[bytes] | None = None
        self.path: Path | None = None
        self.hash = hashlib.sha256()
        self.size = 0
        self.fields: dict[str, str] = {}
        self._field_value = bytearray()
        self.error: Exception | None = None
        self.done_file = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda d, s, e: self._header_field(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value(d[s:e]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": lambda d, s, e: self.part_data(d[s:e]),
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.headers, self._field, self._value = {}, b"", b""
        self.name, self.filename = None, None
        self._field_value = bytearray()

    def _header_field(self, data: bytes) -> None:
        self._field += data

    def _header_value(self, data: bytes) -> None:
        self._value += data

    def header_end(self) -> None:
        self.headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = params.get(b"name", b"").decode("utf-8", "replace") or None
        raw_filename = params.get(b"filename")
        if raw_filename is not None and self.name == "file":
            if self.file is not None:
                raise ValidationFailed("Send one file per upload", details=[{"field": "file", "message": "one file"}])
            self.filename = os.path.basename(raw_filename.decode("utf-8", "replace").replace("\\", "/"))
            self.content_type = self.headers.get(b"content-type", b"application/octet-stream").decode("latin-1")
            fd, name = tempfile.mkstemp(prefix="upload-", dir=self.tmp_dir)
            self.path = Path(name)
            self.file = os.fdopen(fd, "wb")

    def part_data(self, data: bytes) -> None:
        if self.filename is not None and self.file is not None and not self.done_file:
            self.size += len(data)
            if self.size > self.max_bytes:
                raise PayloadTooLarge(f"The file is larger than {self.max_bytes // (1024 * 1024)} MB")
            self.hash.update(data)
            self.file.write(data)
        elif self.name is not None and self.filename is None:
            self._field_value += data
            if len(self._field_value) > FIELD_LIMIT:
                raise ValidationFailed(f"Field {self.name} is too long")

    def part_end(self) -> None:
        if self.filename is not None and self.file is not None:
            self.done_file = True
        elif self.name is not None:
            self.fields[self.name] = self._field_value.decode("utf-8", "replace")

    def close(self) -> None:
        if self.file is not None and not self.file.closed:
            self.file.close()


async def receive_upload(
    content_type: str | None, body: AsyncIterable[bytes], tmp_dir: Path, max_bytes: int
) -> ReceivedFile:
    """Parse a multipart body with a `file` part (and small fields) into a temporary file."""
    kind, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ValidationFailed(
            "Send the document as multipart/form-data with a `file` part",
            details=[{"field": "file", "message": "multipart/form-data expected"}],
        )
    await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
    receiver = _Receiver(tmp_dir, max_bytes)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for piece in body:
            parser.write(piece)
        parser.finalize()
    except Exception as exc:
        receiver.close()
        if receiver.path is not None:
            receiver.path.unlink(missing_ok=True)
        if isinstance(exc, PayloadTooLarge | ValidationFailed):
            raise
        if getattr(exc, "code", None) == 413:
            raise PayloadTooLarge(f"The file is larger than {max_bytes // (1024 * 1024)} MB") from None
        raise BadRequest("The upload could not be read as multipart/form-data") from exc
    receiver.close()
    if receiver.path is None or receiver.filename is None:
        raise ValidationFailed("The upload has no `file` part", details=[{"field": "file", "message": "required"}])
    return ReceivedFile(
        receiver.filename,
        receiver.content_type,
        receiver.path,
        receiver.size,
        receiver.hash.hexdigest(),
        receiver.fields,
    )


def received_content(filename: str, data: bytes, tmp_dir: Path) -> ReceivedFile:
    """A document given whole (a job's input, not a multipart body) as an upload on disk, hashed."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="content-", dir=tmp_dir)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return ReceivedFile(filename, "application/octet-stream", Path(name), len(data), hashlib.sha256(data).hexdigest())

"""Local blob storage: uploads are moved in, not written twice, and never seen half-written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from switchboard.platform import storage
from switchboard.platform.storage import LocalStorage


async def test_a_file_is_moved_in_and_read_back(tmp_path: Path) -> None:
    blobs = LocalStorage(tmp_path / "files")
    upload = tmp_path / "tmp" / "upload-1"
    upload.parent.mkdir()
    upload.write_bytes(b"%PDF-1.7 the original bytes")
    inode = upload.stat().st_ino
    assert await blobs.put_file("documents/org/doc", upload) == 27
    assert not upload.exists()  # taken over, not copied
    assert await blobs.read("documents/org/doc") == b"%PDF-1.7 the original bytes"
    assert blobs.path("documents/org/doc").stat().st_ino == inode  # the same file, renamed


async def test_from_another_disk_the_file_is_copied_then_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def across_disks(path: Path, target: Path) -> int:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(storage, "_move", across_disks)
    blobs = LocalStorage(tmp_path / "files")
    upload = tmp_path / "upload-2"
    upload.write_bytes(b"x" * (3 * 1024 * 1024 + 5))
    assert await blobs.put_file("documents/org/big", upload) == 3 * 1024 * 1024 + 5
    assert not upload.exists()
    assert await blobs.read("documents/org/big") == b"x" * (3 * 1024 * 1024 + 5)
    assert not list((tmp_path / "files" / "documents" / "org").glob("*.part"))


async def test_a_key_that_leaves_the_folder_is_refused(tmp_path: Path) -> None:
    upload = tmp_path / "upload-3"
    upload.write_bytes(b"data")
    with pytest.raises(ValueError, match="invalid storage key"):
        await LocalStorage(tmp_path / "files").put_file("../outside", upload)
    assert upload.exists()

"""Which kind of document a file is, judged by its name and its first bytes together.

A name alone is a claim; the bytes are the evidence. A file whose bytes contradict its
extension (a program renamed `.pdf`, a picture renamed `.docx`) is refused with 415
before any parser sees it.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import PurePath

from switchboard.ingestion.errors import ExtractionFailed
from switchboard.platform.errors import UnsupportedMediaType

# Enough for the magic bytes and, in OOXML files, the first part names of the zip.
HEAD_SIZE = 8192

EXTENSIONS: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
}
KINDS = frozenset(EXTENSIONS.values())

_LABELS = {"pdf": "a PDF", "docx": "a Word document", "xlsx": "an Excel workbook"}
_SUPPORTED = "PDF, Word (.docx), Excel (.xlsx), text, Markdown, HTML or CSV"

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Office writes a password-protected .docx/.xlsx as an OLE container holding this stream.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Signatures no text file starts with; text types carrying one are other files renamed.
_BINARY_MAGIC = (b"%PDF-", _ZIP, _OLE, b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"\x1f\x8b", b"7z\xbc\xaf")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters that real text does not contain (tab, newlines, form feed and escape excepted).
_CONTROL = bytes(sorted(frozenset(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}))


def detect_type(filename: str, head: bytes) -> str:
    """The document kind (`pdf`, `docx`, `xlsx`, `txt`, `md`, `html`, `csv`) of a file.

    `head` is the file's first `HEAD_SIZE` bytes or more; the whole file gives the surest answer
    for `.docx` and `.xlsx`. Raises `UnsupportedMediaType` (415) for an unknown extension or bytes
    that contradict it, and `ExtractionFailed` (422) for an empty or password-protected file.
    """
    suffix = PurePath(filename).suffix.lower()
    kind = EXTENSIONS.get(suffix)
    if kind is None:
        shown = f"{suffix} files are" if suffix else "Files without an extension are"
        raise UnsupportedMediaType(f"{shown} not supported. Upload {_SUPPORTED}.", details={"extension": suffix})
    if not head:
        raise ExtractionFailed("The file is empty.")
    if kind == "pdf":
        ok = b"%PDF-" in head[:1024]
    elif kind in ("docx", "xlsx"):
        ok = _office_kind(head, kind) == kind
    else:
        ok = looks_like_text(head)
    if not ok:
        label = _LABELS.get(kind, "text")
        raise UnsupportedMediaType(
            f"This file is named {suffix} but its contents are not {label}.", details={"extension": suffix}
        )
    return kind


def _office_kind(head: bytes, claimed: str) -> str | None:
    if head.startswith(_OLE) and _ENCRYPTED_PACKAGE in head:
        raise ExtractionFailed("This file is password-protected. Remove the password and upload it again.")
    if not head.startswith(_ZIP):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(head)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        # Only the start of the archive: the part names in its local headers still say what it is.
        if b"word/" in head:
            return "docx"
        if b"xl/" in head:
            return "xlsx"
        return claimed if b"[Content_Types].xml" in head else None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def looks_like_text(head: bytes) -> bool:
    """Whether these bytes read as text in a common encoding rather than binary data."""
    if head.startswith(_BINARY_MAGIC):
        return False
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            try:
                # Not final: the head may end in the middle of a character.
                codecs.getincrementaldecoder(encoding)().decode(head[len(bom) :], final=False)
            except UnicodeDecodeError:
                return False
            return True
    if b"\x00" in head:
        return False
    controls = len(head) - len(head.translate(None, _CONTROL))  # the control bytes, counted at C speed
    return controls <= len(head) // 100


def decode_text(data: bytes) -> str:
    """Bytes of a text file as a string: a BOM decides, then UTF-8, then Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Legacy Western files are the common non-UTF-8 case; a wrong guess only garbles accents.
        return data.decode("cp1252", errors="replace")

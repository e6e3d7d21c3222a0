"""Text out of an uploaded file: `detect_type` says what it is, `extract` reads it into sections.

Both are CPU-bound and synchronous; callers on the event loop run them in a thread.
"""

from __future__ import annotations

from collections.abc import Callable

from switchboard.ingestion.errors import ExtractionFailed
from switchboard.ingestion.extraction.detect import HEAD_SIZE, KINDS, detect_type
from switchboard.ingestion.extraction.markup import extract_html, extract_markdown, extract_text
from switchboard.ingestion.extraction.office import extract_docx
from switchboard.ingestion.extraction.pdf import extract_pdf
from switchboard.ingestion.extraction.sections import Section
from switchboard.ingestion.extraction.tables import extract_csv, extract_xlsx

__all__ = ["HEAD_SIZE", "KINDS", "Section", "detect_type", "extract"]

_READERS: dict[str, Callable[[bytes], list[Section]]] = {
    "pdf": extract_pdf,
    "docx": extract_docx,
    "xlsx": extract_xlsx,
    "csv": extract_csv,
    "txt": extract_text,
    "md": extract_markdown,
    "html": extract_html,
}


def extract(kind: str, data: bytes) -> list[Section]:
    """The text of a file of `kind` (as `detect_type` named it), in reading order, never empty.

    Raises `ExtractionFailed` (422) with a message for the uploader when the file is damaged,
    password-protected, or has no text at all.
    """
    reader = _READERS.get(kind)
    if reader is None:
        raise ValueError(f"unknown document kind {kind!r}")
    sections = reader(data)
    if not any(section.text.strip() for section in sections):
        raise ExtractionFailed("No text was found in this file.")
    return sections

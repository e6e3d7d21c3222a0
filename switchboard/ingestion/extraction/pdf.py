"""Text of a PDF, one section per page so answers can cite the page."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

from switchboard.ingestion.errors import ExtractionFailed
from switchboard.ingestion.extraction.sections import Section

log = logging.getLogger(__name__)

_DAMAGED = "This PDF is damaged and could not be read. Try saving or exporting it again."
_LOCKED = "This PDF is password-protected. Remove the password and upload it again."
_NO_TEXT = (
    "No text was found in this PDF. It may be a scanned image; "
    "text recognition is not supported, so upload a PDF with selectable text."
)


def extract_pdf(data: bytes) -> list[Section]:
    """One section per page that has text, with 1-based page numbers."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            _unlock(reader)
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, start=1)]
    except ExtractionFailed:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractionFailed(_LOCKED) from exc
    except (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # A damaged file surfaces as any of these from deep inside the parser.
        log.info("pdf unreadable: %r", exc)
        raise ExtractionFailed(_DAMAGED) from exc
    sections = [Section(text=text.strip(), page=number) for number, text in pages if text.strip()]
    if not sections:
        raise ExtractionFailed(_NO_TEXT)
    return sections


def _unlock(reader: PdfReader) -> None:
    # Many PDFs are encrypted only against editing, with an empty password for reading.
    try:
        unlocked = reader.decrypt("")
    except (PdfReadError, NotImplementedError) as exc:
        raise ExtractionFailed(_LOCKED) from exc
    if not unlocked:
        raise ExtractionFailed(_LOCKED)

"""Text of a Word document, split at its headings."""

from __future__ import annotations

import io
import logging
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from switchboard.ingestion.errors import ExtractionFailed
from switchboard.ingestion.extraction.sections import Section

log = logging.getLogger(__name__)

_DAMAGED = "This Word document is damaged and could not be read. Try saving it again."


def extract_docx(data: bytes) -> list[Section]:
    """One section per heading, holding the paragraphs and tables under it in reading order."""
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:
        # lxml's XMLSyntaxError is a SyntaxError; a missing part is a KeyError.
        log.info("docx unreadable: %r", exc)
        raise ExtractionFailed(_DAMAGED) from exc
    sections: list[Section] = []
    heading: str | None = None
    lines: list[str] = []

    def flush() -> None:
        text = "\n\n".join(line for line in lines if line)
        if text:
            sections.append(Section(text=text, heading=heading))
        lines.clear()

    for block in blocks:
        if isinstance(block, Paragraph) and _is_heading(block):
            flush()
            heading = block.text.strip() or heading
        elif isinstance(block, Paragraph):
            lines.append(block.text.strip())
        elif isinstance(block, Table):
            lines.append(_table_text(block))
    flush()
    return sections


def _is_heading(paragraph: Paragraph) -> bool:
    style = paragraph.style.name if paragraph.style is not None else ""
    return bool(style) and (style.startswith("Heading") or style == "Title")


def _table_text(table: Table) -> str:
    rows = []
    for row in table.rows:
        # A merged cell appears once per grid column it spans; show it once.
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(cell.text.strip())
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)

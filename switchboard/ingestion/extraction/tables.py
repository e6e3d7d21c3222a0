"""Spreadsheets and CSV: a schema section describing the columns, then a section per row.

Each row names its columns ("city: Oslo; population: 709000") so a row found by search
reads on its own, without the header beside it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import zipfile
from collections.abc import Iterable, Sequence

from switchboard.ingestion.errors import ExtractionFailed
from switchboard.ingestion.extraction.detect import decode_text
from switchboard.ingestion.extraction.sections import Section

log = logging.getLogger(__name__)

_DAMAGED_XLSX = "This Excel workbook is damaged and could not be read. Try saving it again."


def extract_csv(data: bytes) -> list[Section]:
    """Schema and row sections of a CSV file; the delimiter is sniffed, the first row is the header."""
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise ExtractionFailed(f"This CSV file could not be read: {exc}.") from exc
    return table_sections(rows, name=None)


def extract_xlsx(data: bytes) -> list[Section]:
    """Schema and row sections for every sheet, each under the sheet's name as heading."""
    # openpyxl is slow to import; only workers that meet a workbook pay for it.
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sections: list[Section] = []
            for sheet in workbook.worksheets:
                # Read-only mode parses lazily, so a damaged sheet fails here rather than at load.
                rows = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
                sections.extend(table_sections(rows, name=sheet.title))
        finally:
            workbook.close()
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, SyntaxError) as exc:
        # XML parse errors are SyntaxErrors; a missing part is a KeyError.
        log.info("xlsx unreadable: %r", exc)
        raise ExtractionFailed(_DAMAGED_XLSX) from exc
    return sections


def table_sections(rows: Iterable[Sequence[str]], name: str | None) -> list[Section]:
    """A schema section and one section per non-empty row; the first non-empty row is the header."""
    filled = [list(row) for row in rows if any(cell.strip() for cell in row)]
    if not filled:
        return []
    header = [cell.strip() or f"column {number}" for number, cell in enumerate(filled[0], start=1)]
    body = filled[1:]
    where = f"Sheet {name!r}" if name else "Table"
    schema = f"{where} with {len(body)} rows and columns: {', '.join(header)}."
    sections = [Section(text=schema, heading=name, kind="schema")]
    for row in body:
        pairs = [f"{_column(header, index)}: {cell.strip()}" for index, cell in enumerate(row) if cell.strip()]
        sections.append(Section(text="; ".join(pairs), heading=name, kind="row"))
    return sections


def _column(header: list[str], index: int) -> str:
    return header[index] if index < len(header) else f"column {index + 1}"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)

"""Real documents made on the spot, so each test shows exactly what the file holds."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import docx
from fpdf import FPDF
from openpyxl import Workbook
from PIL import Image
from pypdf import PdfReader, PdfWriter


def pdf(pages: list[str]) -> bytes:
    """A PDF with one page per string, in a standard font (so its text is selectable)."""
    document = FPDF()
    document.set_font("Helvetica", size=12)
    for text in pages:
        document.add_page()
        if text:
            document.multi_cell(0, 8, text)
    return bytes(document.output())


def scanned_pdf() -> bytes:
    """A PDF whose only page is a picture of text: what a scanner produces."""
    picture = Image.new("RGB", (200, 80), "white")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    document = FPDF()
    document.add_page()
    document.image(io.BytesIO(buffer.getvalue()), x=10, y=10, w=100)
    return bytes(document.output())


def encrypted_pdf(pages: list[str], user_password: str, owner_password: str = "owner-pass") -> bytes:  # noqa: S107
    """`pdf(pages)` encrypted with AES-256; an empty user password means anyone may read it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(pages))))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def word(blocks: list[tuple[str, str]]) -> bytes:
    """A .docx from (style, text) pairs: style "h1"/"h2" for headings, "p" for a paragraph, "table" for a
    table given as rows separated by ";" and cells by ","."""
    document = docx.Document()
    for style, text in blocks:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1:]))
        elif style == "table":
            rows = [row.split(",") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def workbook(sheets: Mapping[str, Sequence[Sequence[object]]]) -> bytes:
    """An .xlsx with the given sheets, the first row of each being its header."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def png() -> bytes:
    """A small PNG picture."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


# The start of a Windows program: "MZ", a DOS header full of zero bytes, the classic stub message.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)

"""An upload's type comes from its name and its bytes together; a disguised file is refused with 415."""

from __future__ import annotations

import os

import pytest

from switchboard.ingestion import HEAD_SIZE, ExtractionFailed, detect_type
from switchboard.platform.errors import UnsupportedMediaType
from tests.ingestion import samples


@pytest.mark.parametrize(
    ("filename", "data", "kind"),
    [
        ("report.pdf", samples.pdf(["Quarterly revenue grew."]), "pdf"),
        ("Report.PDF", samples.pdf(["Quarterly revenue grew."]), "pdf"),
        ("notes.docx", samples.word([("p", "Meeting notes.")]), "docx"),
        ("budget.xlsx", samples.workbook({"Budget": [["item", "cost"], ["laptop", 1200]]}), "xlsx"),
        ("readme.txt", b"Plain words.\n", "txt"),
        ("guide.md", b"# Guide\n\nSome words.\n", "md"),
        ("page.html", b"<!doctype html><html><body><p>Hi</p></body></html>", "html"),
        ("page.htm", b"<p>Hi</p>", "html"),
        ("people.csv", b"name,age\nAda,36\n", "csv"),
        ("latin.txt", "Caf\u00e9 cr\u00e8me".encode("cp1252"), "txt"),
        ("utf16.txt", "\ufeffHello there".encode("utf-16"), "txt"),
    ],
)
def test_each_supported_type_is_recognised(filename: str, data: bytes, kind: str) -> None:
    assert detect_type(filename, data[:HEAD_SIZE]) == kind


def test_office_files_are_told_apart_from_their_first_bytes_alone() -> None:
    document = samples.word([("p", "x " * 5000)])
    book = samples.workbook({"Sheet": [["a"], *[[n] for n in range(3000)]]})
    assert len(document) > HEAD_SIZE and len(book) > HEAD_SIZE
    assert detect_type("a.docx", document[:HEAD_SIZE]) == "docx"
    assert detect_type("a.xlsx", book[:HEAD_SIZE]) == "xlsx"


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("invoice.pdf", samples.EXE),
        ("photo.docx", samples.png()),
        ("budget.xlsx", samples.word([("p", "A Word document, not a workbook.")])),
        ("letter.docx", samples.workbook({"Sheet": [["a"], [1]]})),
        ("notes.txt", os.urandom(4096)),
        ("notes.md", samples.pdf(["A PDF renamed to Markdown."])),
        ("table.csv", samples.png()),
        ("page.html", samples.EXE),
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 60),
    ],
)
def test_a_file_whose_bytes_contradict_its_extension_is_refused(filename: str, data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        detect_type(filename, data)
    assert caught.value.status == 415
    assert caught.value.code == "unsupported_media_type"
    assert "contents are not" in caught.value.message


@pytest.mark.parametrize("filename", ["setup.exe", "photo.png", "slides.pptx", "old.doc", "Makefile"])
def test_an_unknown_extension_is_refused_and_the_message_lists_what_is_accepted(filename: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        detect_type(filename, b"whatever")
    assert caught.value.status == 415
    assert "PDF, Word (.docx), Excel (.xlsx), text, Markdown, HTML or CSV" in caught.value.message


def test_an_empty_file_is_refused_with_a_reason() -> None:
    with pytest.raises(ExtractionFailed) as caught:
        detect_type("empty.pdf", b"")
    assert caught.value.status == 422
    assert caught.value.message == "The file is empty."


def test_a_password_protected_office_file_says_so() -> None:
    # Office stores an encrypted .docx as an OLE container with an "EncryptedPackage" stream.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(ExtractionFailed, match="password-protected"):
        detect_type("secret.docx", ole)

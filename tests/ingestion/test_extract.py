"""Each supported format yields its text with the page or heading it sat under; failures say why."""

from __future__ import annotations

import os

import pytest

from switchboard.ingestion import ExtractionFailed, Section, detect_type, extract
from tests.ingestion import samples

SENTENCE = "The lighthouse keeper logs every passing ship at dawn."


def text_of(sections: list[Section]) -> str:
    return "\n".join(section.text for section in sections)


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("a.pdf", samples.pdf([SENTENCE])),
        ("a.docx", samples.word([("h1", "Log"), ("p", SENTENCE)])),
        ("a.xlsx", samples.workbook({"Notes": [["note"], [SENTENCE]]})),
        ("a.txt", SENTENCE.encode()),
        ("a.md", f"# Log\n\n{SENTENCE}\n".encode()),
        ("a.html", f"<html><body><h1>Log</h1><p>{SENTENCE}</p></body></html>".encode()),
        ("a.csv", f'note\n"{SENTENCE}"\n'.encode()),
    ],
)
def test_every_type_yields_its_text(filename: str, data: bytes) -> None:
    sections = extract(detect_type(filename, data), data)
    assert SENTENCE in text_of(sections)


def test_pdf_sections_carry_their_page_numbers() -> None:
    data = samples.pdf(["Apples grow in the orchard.", "", "Pears ripen in autumn."])
    sections = extract("pdf", data)
    assert [(s.page, s.text) for s in sections] == [(1, "Apples grow in the orchard."), (3, "Pears ripen in autumn.")]


def test_docx_sections_carry_their_headings_and_tables() -> None:
    data = samples.word(
        [
            ("p", "Before any heading."),
            ("h1", "Installation"),
            ("p", "Run the installer."),
            ("h2", "Requirements"),
            ("p", "Two cores are enough."),
            ("table", "part,count;disk,2"),
        ]
    )
    sections = extract("docx", data)
    assert [(s.heading, s.text) for s in sections] == [
        (None, "Before any heading."),
        ("Installation", "Run the installer."),
        ("Requirements", "Two cores are enough.\n\npart | count\ndisk | 2"),
    ]


def test_spreadsheet_gives_a_schema_section_then_one_section_per_row() -> None:
    data = samples.workbook(
        {"Staff": [["name", "city", "salary"], ["Ada", "London", 5200], ["Linus", None, 4100.5]], "Empty": []}
    )
    sections = extract("xlsx", data)
    assert [(s.kind, s.heading, s.text) for s in sections] == [
        ("schema", "Staff", "Sheet 'Staff' with 2 rows and columns: name, city, salary."),
        ("row", "Staff", "name: Ada; city: London; salary: 5200"),
        ("row", "Staff", "name: Linus; salary: 4100.5"),
    ]


def test_csv_delimiter_is_detected() -> None:
    sections = extract("csv", b"product;price\nTea;3.50\nCoffee;2.80\n")
    assert sections[0].kind == "schema" and "columns: product, price" in sections[0].text
    assert [s.text for s in sections[1:]] == ["product: Tea; price: 3.50", "product: Coffee; price: 2.80"]


def test_html_keeps_visible_text_and_headings_and_drops_scripts() -> None:
    page = b"""<!doctype html><html><head><title>Handbook</title><style>p{color:red}</style>
    <meta charset="iso-8859-1"></head><body>
    <p>Welcome to the <b>staff</b>
       handbook.</p>
    <script>var secret = "do not index";</script>
    <h2>Holidays</h2><ul><li>Twenty-five days</li><li>Plus public holidays &amp; your birthday</li></ul>
    <h2>Caf\xe9</h2><p>Open at eight.<br>Closed on Sundays.</p>
    </body></html>"""
    sections = extract("html", page)
    assert [(s.heading, s.text) for s in sections] == [
        ("Handbook", "Welcome to the staff handbook."),
        ("Holidays", "Twenty-five days\n\nPlus public holidays & your birthday"),
        ("Caf\u00e9", "Open at eight.\nClosed on Sundays."),
    ]


def test_markdown_is_split_at_headings_but_not_inside_code() -> None:
    markdown = b"""Intro line.

# Setup

Install it.

```bash
# not a heading
make install
```

Usage
-----

Run it.
"""
    sections = extract("md", markdown)
    assert [(s.heading, s.text) for s in sections] == [
        (None, "Intro line."),
        ("Setup", "Install it.\n\n```bash\n# not a heading\nmake install\n```"),
        ("Usage", "Run it."),
    ]


def test_a_damaged_pdf_fails_with_a_readable_reason() -> None:
    whole = samples.pdf(["Some text."])
    for damaged in (whole[: len(whole) // 2], b"%PDF-1.7\n" + os.urandom(2000)):
        with pytest.raises(ExtractionFailed) as caught:
            extract("pdf", damaged)
        assert caught.value.status == 422
        assert caught.value.code == "extraction_failed"
        assert caught.value.message.startswith("This PDF is damaged and could not be read.")


def test_a_password_protected_pdf_fails_with_a_readable_reason() -> None:
    with pytest.raises(ExtractionFailed) as caught:
        extract("pdf", samples.encrypted_pdf(["Payroll."], user_password="s3cret"))
    assert caught.value.message == "This PDF is password-protected. Remove the password and upload it again."


def test_a_pdf_encrypted_only_against_editing_is_read() -> None:
    sections = extract("pdf", samples.encrypted_pdf(["Anyone may read this."], user_password=""))
    assert text_of(sections) == "Anyone may read this."


@pytest.mark.parametrize("data", [samples.pdf([""]), samples.scanned_pdf()], ids=["blank", "scanned"])
def test_a_pdf_without_text_fails_and_mentions_scans(data: bytes) -> None:
    with pytest.raises(ExtractionFailed, match=r"No text was found in this PDF\. It may be a scanned image"):
        extract("pdf", data)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("txt", b"   \n\t\n  "),
        ("md", b"#\n\n   \n"),
        ("html", b"<html><body><script>x()</script> </body></html>"),
        ("csv", b"\n,,\n"),
        ("docx", samples.word([("p", "   ")])),
    ],
)
def test_a_file_with_no_text_fails_with_a_readable_reason(kind: str, data: bytes) -> None:
    with pytest.raises(ExtractionFailed, match=r"^No text was found in this file\.$"):
        extract(kind, data)


def test_a_damaged_word_document_fails_with_a_readable_reason() -> None:
    whole = samples.word([("p", "Hello.")])
    with pytest.raises(ExtractionFailed, match="This Word document is damaged"):
        extract("docx", whole[: len(whole) // 2])


def test_a_damaged_workbook_fails_with_a_readable_reason() -> None:
    whole = samples.workbook({"Sheet": [["a"], [1]]})
    with pytest.raises(ExtractionFailed, match="This Excel workbook is damaged"):
        extract("xlsx", whole[: len(whole) // 2])


def test_html_page_furniture_is_left_out() -> None:
    page = b"""<html><head><title>Guide</title></head><body>
    <nav><a href="/">Home</a> <a href="/next">Next topic</a></nav>
    <div class="sphinxsidebar" role="navigation"><h3>Table of Contents</h3><p>Quick search</p></div>
    <div class="body"><h1>Knots<a class="headerlink" href="#knots">\xc2\xb6</a></h1>
    <p>A bowline makes a fixed loop.</p></div>
    <footer>Copyright 2026</footer></body></html>"""
    sections = extract("html", page)
    text = " ".join(s.text for s in sections)
    assert "bowline" in text
    for furniture in ("Next topic", "Table of Contents", "Quick search", "Copyright"):
        assert furniture not in text
    assert [s.heading for s in sections if "bowline" in s.text] == ["Knots"]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        # The page's own declaration wins, in a <meta> or an XML declaration, or a byte-order mark.
        (b'<meta charset="windows-1251"><h1>\xcf\xf0\xe8\xe2\xe5\xf2</h1><p>\xec\xe8\xf0</p>', ("Привет", "мир")),
        (b'<?xml version="1.0" encoding="iso-8859-15"?><html><h1>\xa4</h1><p>euro</p></html>', ("€", "euro")),
        ("\ufeff<h1>Übersicht</h1><p>Grüße</p>".encode("utf-16-le"), ("Übersicht", "Grüße")),
        # A name libxml2 does not know but Python does is still honoured.
        (b'<meta charset="latin_1"><h1>Caf\xe9</h1><p>ok</p>', ("Café", "ok")),
        # Undeclared: UTF-8 when it is UTF-8, else what charset detection makes of it.
        ("<h1>Straße</h1><p>中文 — été</p>".encode(), ("Straße", "中文 — été")),
        (
            "<h1>日本語</h1><p>こんにちは世界。今日はいい天気ですね。</p>".encode("shift_jis"),
            ("日本語", "こんにちは世界。今日はいい天気ですね。"),
        ),
    ],
)
def test_html_is_read_in_its_charset(page: bytes, expected: tuple[str, str]) -> None:
    assert [(s.heading, s.text) for s in extract("html", page)] == [expected]


def test_html_bytes_its_charset_lacks_keep_the_rest_of_the_page() -> None:
    # 0x81 has no character in Windows-1252: it becomes U+FFFD instead of the whole page being lost.
    page = b'<meta charset="windows-1252"><h1>Caf\xe9</h1><p>odd \x81 byte, \x93quoted\x94</p>'
    assert [(s.heading, s.text) for s in extract("html", page)] == [("Café", "odd \ufffd byte, “quoted”")]


def test_html_deeply_nested_and_text_after_the_end_tag_are_kept() -> None:
    deep = b"<html><body>" + b"<div>" * 1000 + b"<p>Deep text.</p>" + b"</div>" * 1000 + b"<p>Next.</p>"
    page = deep + b"</body></html>\n<p>After the end.</p>"
    assert [s.text for s in extract("html", page)] == ["Deep text.\n\nNext.\n\nAfter the end."]


def test_html_comments_scripts_and_ruby_notes_stay_out_of_headings_and_code() -> None:
    page = b"""<!DOCTYPE html><!-- top --><html><body>
    <h1>Con<!-- x -->fig <span>file</span><script>track()</script></h1>
    <p>One<!-- two -->three <b>four</b><?php echo 5 ?></p>
    <pre>x = 1<!-- hidden -->\n  y = <span>2</span></pre>
    <h2>\xe6\xbc\xa2<rp>(</rp><rt>kan</rt><rp>)</rp></h2><p><ruby>\xe6\xbc\xa2<rt>kan</rt></ruby> read aloud</p>
    <table><tr><th>key</th><td>value</td></tr></table></body></html>"""
    assert [(s.heading, s.text) for s in extract("html", page)] == [
        ("Con fig file", "Onethree four\n\nx = 1\n  y = 2"),
        ("漢", "漢kan read aloud\n\nkey | value"),
    ]

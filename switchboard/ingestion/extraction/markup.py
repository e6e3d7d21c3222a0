"""Plain text, Markdown and HTML: sections split at headings."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import charset_normalizer
from lxml import etree  # type: ignore[import-untyped]

from switchboard.ingestion.extraction.detect import decode_text
from switchboard.ingestion.extraction.sections import Section

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SPACES = re.compile(r"\s+")

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe", "object", "nav", "footer"})
# Page furniture that is not the page's content: navigation, sidebars, permalink signs.
_FURNITURE_ROLES = frozenset({"navigation", "search", "banner", "contentinfo"})
_FURNITURE_CLASSES = ("sidebar", "navigation", "related", "breadcrumb", "headerlink", "skip-link")
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "aside", "header", "footer", "nav", "blockquote", "pre", "ul", "ol",
     "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "figure", "figcaption", "form", "fieldset", "address",
     "details", "summary", "hr", "body", "caption"}
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_RUBY = frozenset({"rt", "rp"})
# What an element's end does (`_HtmlSections._start`): nothing, or any of these.
_SKIP, _BLOCK, _CELL, _RUBY_NOTE = 1, 2, 4, 8
# Text inside these is not a heading's or a <pre>'s text (scripts, styles and templates are skipped anyway).
_STRING_CONTAINERS = ("script", "style", "template", "rt", "rp")
# How a page declares its charset: an XML declaration at the very top, or a <meta> near it.
_XML_DECLARATION = re.compile(rb"^\s*<\?.*encoding=['\"](.*?)['\"].*\?>", re.I)
_META_CHARSET = re.compile(rb"<\s*meta[^>]+charset\s*=\s*[\"']?([^>]*?)[ /;'\">]", re.I)


def extract_text(data: bytes) -> list[Section]:
    """A plain text file as one section; chunking splits it at paragraphs."""
    text = decode_text(data).strip()
    return [Section(text=text)] if text else []


def extract_markdown(data: bytes) -> list[Section]:
    """One section per Markdown heading (ATX `#` or underlined), ignoring `#` lines inside code fences."""
    sections: list[Section] = []
    heading: str | None = None
    lines: list[str] = []
    fence: str | None = None

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text:
            sections.append(Section(text=text, heading=heading))
        lines.clear()

    for line in decode_text(data).splitlines():
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
        elif opener:
            fence = opener.group(1)
        elif atx := _ATX.match(line):
            flush()
            heading = (atx.group(2) or "").strip() or heading
            continue
        elif _SETEXT.match(line) and lines and lines[-1].strip():
            title = lines.pop().strip()
            flush()
            heading = title
            continue
        lines.append(line)
    flush()
    return sections


def extract_html(data: bytes) -> list[Section]:
    """Visible text of an HTML page, one section per `h1`-`h6`; the `<title>` heads the text before the first."""
    root = _parse_html(data)
    if root is None:  # no element at all (empty, only a comment)
        return []
    # Content after </html> makes a second top-level element; comments may sit beside them.
    tops = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    tops = [node for node in tops if isinstance(node.tag, str)]
    title = next((found for node in tops for found in node.iter("title")), None)
    heading = _joined_strings(title) if title is not None and not _in_string_container(title) else ""
    walker = _HtmlSections(heading or None)
    for node in tops:
        walker.walk(node)
    walker.flush()
    return walker.sections


def _parse_html(data: bytes) -> etree._Element | None:
    """The page's tree, read in the charset its byte-order mark or its own declaration names.

    Undeclared, it is UTF-8 when the bytes are valid UTF-8, else what charset detection makes
    of them, else Windows-1252 (as `decode_text` reads text files).
    """
    data, encoding = _byte_order_mark(data)
    encoding = encoding or _declared_charset(data)
    if encoding is not None:
        with contextlib.suppress(LookupError):  # a name nobody knows: as if undeclared
            return _parse_in(data, encoding)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return _parse_in(data, "utf-8")
    detected = charset_normalizer.detect(data)["encoding"]
    if detected is not None:
        with contextlib.suppress(LookupError, etree.XMLSyntaxError):
            return _parse_bytes(data, detected)
    return _parse_text(decode_text(data))


def _parse_in(data: bytes, encoding: str) -> etree._Element | None:
    """The tree of bytes in `encoding`, decoded by libxml2, else by Python (unreadable bytes become U+FFFD).

    Python takes over for a name libxml2 does not know and for bytes the charset has no character
    for (libxml2 gives up on the whole page there). LookupError if neither knows the name.
    """
    try:
        return _parse_bytes(data, encoding)
    except (LookupError, etree.XMLSyntaxError):
        return _parse_text(data.decode(encoding, errors="replace"))


def _parse_bytes(data: bytes, encoding: str) -> etree._Element | None:
    parser = etree.HTMLParser(encoding=encoding, huge_tree=True)
    parser.feed(data)
    return parser.close()


def _parse_text(text: str) -> etree._Element | None:
    parser = etree.HTMLParser(huge_tree=True)
    parser.feed(text)  # a str: a <meta charset> in it is ignored
    return parser.close()


def _byte_order_mark(data: bytes) -> tuple[bytes, str | None]:
    """The bytes without their byte-order mark, and the encoding it names."""
    if data[:2] == b"\xfe\xff" and len(data) >= 4 and data[2:4] != b"\x00\x00":
        return data[2:], "utf-16be"
    if data[:2] == b"\xff\xfe" and len(data) >= 4 and data[2:4] != b"\x00\x00":
        return data[2:], "utf-16le"
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:], "utf-8"
    if data[:4] == b"\x00\x00\xfe\xff":
        return data[4:], "utf-32be"
    if data[:4] == b"\xff\xfe\x00\x00":
        return data[4:], "utf-32le"
    return data, None


def _declared_charset(data: bytes) -> str | None:
    """The charset an XML declaration or a `<meta>` near the top of the page names (lower case), if any."""
    found = _XML_DECLARATION.search(data, 0, 1024) or _META_CHARSET.search(data, 0, max(2048, len(data) // 20))
    if found is None or not found.group(1):
        return None
    return found.group(1).decode("ascii", "replace").lower()


class _HtmlSections:
    """Collects text in document order; block elements break paragraphs, headings start sections."""

    def __init__(self, heading: str | None) -> None:
        self.sections: list[Section] = []
        self.heading = heading
        self.paragraphs: list[str] = []
        self.line: list[str] = []
        self.ruby = 0  # inside <rt>/<rp>: shown here, but not part of a heading's or a <pre>'s text

    def walk(self, top: etree._Element) -> None:
        """Add a top-level element's text (a loop over the tree, not recursion: no depth is too deep)."""
        line = self.line
        events = etree.iterwalk(top, events=("start", "end", "comment", "pi"))
        open_: list[int] = []  # for each element entered: what its end does
        for event, node in events:
            if event == "start":
                done = self._start(node)
                open_.append(done)
                if done & _SKIP:
                    events.skip_subtree()
                elif node.text:
                    # Newlines in HTML source are only spaces; <br> and blocks make the breaks.
                    line.append(_SPACES.sub(" ", node.text))
                continue
            if event == "end":
                done = open_.pop()
                if done & _RUBY_NOTE:
                    self.ruby -= 1
                if done & _CELL:
                    line.append(" | ")
                if done & _BLOCK:
                    self._end_paragraph()
            if node.tail and node is not top:  # after an element, a comment, a processing instruction
                line.append(_SPACES.sub(" ", node.tail))

    def _start(self, tag: etree._Element) -> int:
        """Handle an element's start; say what its end does, or that its contents are done with."""
        name = tag.tag.lower()
        if name in _SKIPPED or _is_furniture(tag):
            return _SKIP
        if name in _HEADINGS:
            self.flush()
            text = "" if self.ruby else _joined_strings(tag)
            self.heading = text.replace("\u00b6", "").strip() or self.heading
            return _SKIP
        if name == "br":
            self.line.append("\n")
            return _SKIP
        if name == "pre":
            self._end_paragraph()
            code = "" if self.ruby else "".join(_strings(tag)).strip("\n")
            if code.strip():
                self.paragraphs.append(code)
            return _SKIP
        done = 0
        if name in _BLOCKS:
            self._end_paragraph()
            done |= _BLOCK
        if name in _CELLS:
            done |= _CELL
        if name in _RUBY:
            self.ruby += 1
            done |= _RUBY_NOTE
        return done

    def _end_paragraph(self) -> None:
        text = "\n".join(part.strip(" |") for part in "".join(self.line).split("\n"))
        self.line.clear()
        if text.strip():
            self.paragraphs.append(text.strip())

    def flush(self) -> None:
        """Close the current section."""
        self._end_paragraph()
        if self.paragraphs:
            self.sections.append(Section(text="\n\n".join(self.paragraphs), heading=self.heading))
        self.paragraphs.clear()


def _strings(node: etree._Element) -> Iterator[str]:
    """The text in `node`, in order, without comments and without what scripts, styles and ruby notes hold."""
    if next(node.iter(*_STRING_CONTAINERS), None) is None:
        yield from node.itertext()  # the common case, at C speed (its own tail is not included)
        return
    events = etree.iterwalk(node, events=("start", "end", "comment", "pi"))
    for event, inner in events:
        if event == "start" and inner is not node and inner.tag in _STRING_CONTAINERS:
            events.skip_subtree()
        elif event == "start":
            if inner.text:
                yield inner.text
        elif inner is not node and inner.tail:
            yield inner.tail


def _joined_strings(node: etree._Element) -> str:
    """The text in `node`, each run stripped, joined by spaces (a heading, the title)."""
    return " ".join(stripped for text in _strings(node) if (stripped := text.strip()))


def _in_string_container(node: etree._Element) -> bool:
    return any(ancestor.tag in _STRING_CONTAINERS for ancestor in node.iterancestors())


def _is_furniture(tag: etree._Element) -> bool:
    """Navigation, sidebars and the like: on every page of a site, the answer to no question."""
    if tag.get("role") in _FURNITURE_ROLES or tag.get("aria-hidden") == "true":
        return True
    classes = (tag.get("class") or "").lower()
    return any(word in classes for word in _FURNITURE_CLASSES)

"""Plain text, Markdown and HTML: sections split at headings."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

from switchboard.ingestion.detect import decode_text
from switchboard.ingestion.sections import Section

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
    # Bytes, not str: BeautifulSoup honours the page's own <meta charset>.
    # multi_valued_attributes=None: `class` stays one string; splitting every tag's attributes took a third of the time
    soup = BeautifulSoup(data, "lxml", multi_valued_attributes=None)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    walker = _HtmlSections(title or None)
    walker.walk(soup)
    walker.flush()
    return walker.sections


class _HtmlSections:
    """Collects text in document order; block elements break paragraphs, headings start sections."""

    def __init__(self, heading: str | None) -> None:
        self.sections: list[Section] = []
        self.heading = heading
        self.paragraphs: list[str] = []
        self.line: list[str] = []

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment | Declaration | Doctype | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                # Newlines in HTML source are only spaces; <br> and blocks make the breaks.
                self.line.append(_SPACES.sub(" ", str(child)))
            elif isinstance(child, Tag):
                self._tag(child)

    def _tag(self, tag: Tag) -> None:
        name = tag.name.lower()
        if name in _SKIPPED or _is_furniture(tag):
            return
        if name in _HEADINGS:
            self.flush()
            self.heading = tag.get_text(" ", strip=True).replace("\u00b6", "").strip() or self.heading
            return
        if name == "br":
            self.line.append("\n")
            return
        if name == "pre":
            self._end_paragraph()
            code = tag.get_text().strip("\n")
            if code.strip():
                self.paragraphs.append(code)
            return
        block = name in _BLOCKS
        if block:
            self._end_paragraph()
        self.walk(tag)
        if name in _CELLS:
            self.line.append(" | ")
        if block:
            self._end_paragraph()

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


def _is_furniture(tag: Tag) -> bool:
    """Navigation, sidebars and the like: on every page of a site, the answer to no question."""
    if tag.get("role") in _FURNITURE_ROLES or tag.get("aria-hidden") == "true":
        return True
    classes = str(tag.get("class") or "").lower()
    return any(word in classes for word in _FURNITURE_CLASSES)

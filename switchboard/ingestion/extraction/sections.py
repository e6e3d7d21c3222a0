"""The unit extraction hands to chunking: a run of text with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SectionKind = Literal["text", "schema", "row"]


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text from one place in a document.

    `page` is 1-based where the format has pages; `heading` is the nearest heading above the text.
    `kind` tells chunking which sections may share a chunk: rows of a table pack together, a table's
    schema stays on its own.
    """

    text: str
    page: int | None = None
    heading: str | None = None
    kind: SectionKind = "text"

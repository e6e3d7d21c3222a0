"""Typed tool results other parts read without parsing the model's copy.

A tool returns an object; the model gets its JSON (`tool_result_text`), while the agent loop keeps
the object itself on the transcript (`Message.result`). Readers ask for what they need by shape:
chat's citations and the offline responder read any result that `FoundPassages` describes, so
they never know a tool's name nor parse its text.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import pydantic


class Passage(Protocol):
    """A passage of a document that a tool found: what a citation points to."""

    @property
    def chunk_id(self) -> int:
        """The passage's id."""

    @property
    def document_id(self) -> uuid.UUID | str:
        """The document it comes from."""

    @property
    def document_name(self) -> str:
        """The document's name."""

    @property
    def page(self) -> int | None:
        """Its page, when the document has pages."""

    @property
    def text(self) -> str:
        """The passage's text."""

    @property
    def score(self) -> float:
        """How well it matched (higher is better)."""


@runtime_checkable
class FoundPassages(Protocol):
    """A tool result that found passages of documents (a search)."""

    @property
    def passages(self) -> Sequence[Passage]:
        """The passages, best first."""


def found_passages(results: Sequence[Any]) -> list[Passage]:
    """Every passage in these tool results, in order (results of other kinds are skipped)."""
    return [p for result in results if isinstance(result, FoundPassages) for p in result.passages]


def tool_result_text(result: Any) -> str:
    """A tool's result as the text sent back to the model: strings as they are, anything else as JSON.

    An object with `as_dict()` is sent as that dict; a pydantic model or a dataclass as its fields.
    """
    if isinstance(result, str):
        return result
    if isinstance(result, pydantic.BaseModel):
        return result.model_dump_json()
    if callable(getattr(result, "as_dict", None)):
        result = result.as_dict()
    elif dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    return json.dumps(result, default=str, ensure_ascii=False)

"""Citations: the passages the agents' searches found, numbered for the answer.

They are read from the typed results the tools returned (`switchboard.agents.FoundPassages`),
never parsed back out of the text the model was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from switchboard.agents import Passage, RunOutcome, found_passages

MAX_CITATIONS = 10


@dataclass(frozen=True)
class Source:
    """A passage a step found, as a task's state keeps it until the answer cites it."""

    chunk_id: int
    document_id: str
    document_name: str
    page: int | None
    text: str
    score: float

    @classmethod
    def of(cls, passage: Passage) -> Source:
        """The passage as chat keeps it."""
        return cls(
            passage.chunk_id,
            str(passage.document_id),
            passage.document_name,
            passage.page,
            passage.text,
            float(passage.score),
        )

    def to_state(self) -> dict[str, Any]:
        """JSON-ready form, for the task's state."""
        return asdict(self)

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> Source:
        """A source kept with `to_state`."""
        return cls(
            int(data["chunk_id"]),
            str(data["document_id"]),
            str(data.get("document_name") or ""),
            data.get("page"),
            str(data.get("text") or ""),
            float(data.get("score") or 0),
        )


def sources_of(outcome: RunOutcome) -> list[Source]:
    """Passages the pass's tools found, in the order the model saw them."""
    return [Source.of(p) for p in found_passages([m.result for m in outcome.messages if m.role == "tool"])]


def to_state(sources: Iterable[Source]) -> list[dict[str, Any]]:
    """Sources as the task's state keeps them."""
    return [s.to_state() for s in sources]


def from_state(data: Iterable[Mapping[str, Any]]) -> list[Source]:
    """Sources kept with `to_state`."""
    return [Source.from_state(d) for d in data]


def citations(sources: Iterable[Source], limit: int = MAX_CITATIONS) -> list[dict[str, Any]]:
    """The distinct passages, numbered from 1, as the answer's citations (at most `limit`)."""
    seen: set[int] = set()
    cited: list[dict[str, Any]] = []
    for source in sources:
        if source.chunk_id in seen:
            continue
        seen.add(source.chunk_id)
        cited.append(
            {
                "number": len(cited) + 1,
                "document_id": source.document_id,
                "document_name": source.document_name,
                "chunk_id": source.chunk_id,
                "page": source.page,
                "text": source.text[:500],
            }
        )
        if len(cited) == limit:
            break
    return cited


_MARKER = re.compile(r"\[(\d{1,3})\]")
_SOURCES_TAIL = re.compile(
    r"\n+[ \t]*(?:#+[ \t]*)?(?:\*\*|__)?(?:Sources|References)(?:\*\*|__)?:?(?:\*\*|__)?[ \t]*\n"
    r"(?:[ \t]*(?:[-*][ \t]+)?\[\d{1,3}\][^\n]*(?:\n|$))+\s*$",
    re.I,
)


def without_sources_list(text: str) -> str:
    """The answer without a trailing "Sources:" list of its own: the cited sources are shown beside it."""
    return _SOURCES_TAIL.sub("", text).rstrip() if _SOURCES_TAIL.search(text) else text


def cited_numbers(text: str) -> list[int]:
    """The `[n]` markers of the text, in the order they first appear."""
    seen: list[int] = []
    for match in _MARKER.finditer(text):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def only_cited(text: str, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candidates the text cites, keeping the numbers the text gives them (uncited ones are left out)."""
    wanted = set(cited_numbers(text))
    return [c for c in candidates if c["number"] in wanted]

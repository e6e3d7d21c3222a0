"""The offline responder: the default `ChatModel` when no language model is configured.

It writes no prose of its own. Asked a question, it calls a search tool (one marked `searches`,
when the user may use one), then answers by quoting the best passages with numbered citations, word by
word like a streamed model, and says plainly that it is the offline responder.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Sequence

from switchboard.agents.providers.base import (
    ChatEvent,
    ChatOptions,
    Completion,
    Message,
    TextDelta,
    ToolCallRequest,
    ToolSpec,
)
from switchboard.agents.results import FoundPassages, Passage

LABEL = "Offline responder (no language model is configured): these passages from your documents match best."
NOTHING_FOUND = (
    "Offline responder (no language model is configured): I found nothing in your documents that answers this. "
    "Upload documents that cover it, or ask an admin to configure a language model."
)
NO_SEARCH = (
    "Offline responder (no language model is configured): I can only quote your documents, "
    "and document search is not available to you."
)
MAX_QUOTES = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class OfflineResponder:
    """Extractive answers from document search results; no model, no network."""

    model = "offline-responder"

    async def stream(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), options: ChatOptions | None = None
    ) -> AsyncIterator[ChatEvent]:
        """Call the search tool for the last question, then quote what it found."""
        question = _last_user_question(messages)
        results = _search_results_since_question(messages)
        search = next((t for t in tools if t.searches), None)
        if results is None and search is not None:
            call = ToolCallRequest(f"call_{uuid.uuid4().hex[:12]}", search.name, json.dumps({"query": question}))
            yield call
            yield Completion("tool_calls", tool_calls=(call,))
            return
        text = compose_answer(question, results) if results is not None else NO_SEARCH
        for piece in re.findall(r"\S+\s*", text):
            yield TextDelta(piece)
        yield Completion("stop", text=text)


def compose_answer(question: str, results: Sequence[Passage]) -> str:
    """An extractive answer: the best passages, each quoted with its `[n]` marker (the sources are listed
    beside the answer, not in it). The search only returns passages that clear the similarity cut-off,
    so no results means nothing in the documents answers."""
    if not results:
        return NOTHING_FOUND
    lines = [LABEL, ""]
    for number, hit in enumerate(results[:MAX_QUOTES], start=1):
        lines.append(f"> {_best_sentences(hit.text, question)} [{number}]")
        lines.append("")
    return "\n".join(lines).rstrip()


def _best_sentences(text: str, question: str, limit: int = 400) -> str:
    """The passage's sentences that share the most words with the question, in their order."""
    words = {w for w in re.findall(r"\w{3,}", question.lower())}
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]
    if not sentences:
        return ""
    scored = sorted(range(len(sentences)), key=lambda i: -len(words & set(re.findall(r"\w{3,}", sentences[i].lower()))))
    chosen: list[int] = []
    for index in scored:
        if sum(len(sentences[i]) for i in chosen) + len(sentences[index]) > limit and chosen:
            break
        chosen.append(index)
    return " ".join(sentences[i] for i in sorted(chosen))


def _last_user_question(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    return ""


def _search_results_since_question(messages: Sequence[Message]) -> list[Passage] | None:
    """Passages the searches since the last user message found, or None if no search answered yet."""
    results: list[Passage] | None = None
    for message in messages:
        if message.role == "user":
            results = None
        elif message.role == "tool" and isinstance(message.result, FoundPassages):
            results = (results or []) + list(message.result.passages)
    return results

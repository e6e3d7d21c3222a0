"""The offline responder answers from the typed results of a search tool, whatever its name."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.agents.providers.base import Message, ToolCallRequest, ToolSpec, complete
from switchboard.agents.providers.offline import NOTHING_FOUND, OfflineResponder


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    document_id: str
    document_name: str
    page: int | None
    text: str
    score: float


@dataclass(frozen=True)
class Found:
    hits: tuple[Hit, ...]

    @property
    def passages(self) -> tuple[Hit, ...]:
        return self.hits


SEARCH = ToolSpec("find_in_manuals", "Search the manuals.", {"type": "object"}, searches=True)


async def test_it_calls_the_tool_marked_as_a_search_with_the_question():
    done = await complete(OfflineResponder(), [Message.user("How do I tie a bowline?")], tools=[SEARCH])
    (call,) = done.tool_calls
    assert call.name == "find_in_manuals" and call.parsed_arguments() == {"query": "How do I tie a bowline?"}


async def test_it_quotes_the_passages_of_the_typed_result_with_numbered_markers_and_no_sources_list():
    call = ToolCallRequest("call_1", "find_in_manuals", '{"query": "bowline"}')
    found = Found((Hit(7, "d1", "Knots.pdf", 4, "The bowline makes a loop that holds. It is easy.", 0.9),))
    messages = [
        Message.user("How do I tie a bowline?"),
        Message.assistant("", [call]),
        # the text the model would read is not what the responder reads
        Message.tool_result("call_1", "(not JSON)", found),
    ]
    answer = (await complete(OfflineResponder(), messages, tools=[SEARCH])).text
    assert "The bowline makes a loop that holds. It is easy. [1]" in answer
    # the sources are listed beside the answer (its citations), not repeated in its text
    assert "Sources:" not in answer and "Knots.pdf" not in answer


async def test_a_search_that_found_nothing_says_so():
    call = ToolCallRequest("call_1", "find_in_manuals", "{}")
    messages = [
        Message.user("Anything?"),
        Message.assistant("", [call]),
        Message.tool_result("call_1", "{}", Found(())),
    ]
    assert (await complete(OfflineResponder(), messages, tools=[SEARCH])).text == NOTHING_FOUND

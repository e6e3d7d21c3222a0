"""The `ChatModel` seam: a streamed chat completion that may ask for tool calls.

A model yields `TextDelta`s as the answer is written, one `ToolCallRequest` per complete
tool call, and exactly one `Completion` last. Implementations translate their library's
errors into `ProviderError`s, so callers never handle a vendor exception.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolSpec:
    """What a model is told about one tool: its name, purpose and JSON-schema of arguments."""

    name: str
    description: str
    parameters: dict[str, Any]
    # not for the model: the tool searches documents by a `query` (see `switchboard.agents.Tool.searches`)
    searches: bool = False


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer's text, in order."""

    text: str


@dataclass(frozen=True)
class ToolCallRequest:
    """The model asks to call a tool; `arguments` is the JSON text exactly as the model wrote it."""

    id: str
    name: str
    arguments: str

    def parsed_arguments(self) -> Any:
        """The arguments decoded from JSON; an empty string means no arguments."""
        return json.loads(self.arguments) if self.arguments.strip() else {}


@dataclass(frozen=True)
class Usage:
    """Tokens spent by one completion, as the provider reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class Completion:
    """The end of one streamed completion: why it stopped, what it cost, and the whole answer."""

    finish_reason: str
    usage: Usage | None = None
    text: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()


ChatEvent = TextDelta | ToolCallRequest | Completion


@dataclass(frozen=True)
class Message:
    """One message of a conversation sent to a model."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()
    tool_call_id: str | None = None
    # A tool message's result as the tool returned it (the model reads `content`, its JSON). Kept in
    # memory only: a transcript stored for a paused run keeps the text.
    result: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def system(cls, content: str) -> Message:
        """A system (instructions) message."""
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> Message:
        """A user's message."""
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: Sequence[ToolCallRequest] = ()) -> Message:
        """An earlier answer of the model, with the tool calls it asked for."""
        return cls("assistant", content, tool_calls=tuple(tool_calls))

    @classmethod
    def tool_result(cls, tool_call_id: str, content: str, result: Any = None) -> Message:
        """The result of a tool call, sent back to the model as `content`; `result` is the tool's own object."""
        return cls("tool", content, tool_call_id=tool_call_id, result=result)


@dataclass(frozen=True)
class ChatOptions:
    """Sampling options of one completion; None leaves the provider's default."""

    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ChatModel(Protocol):
    """A chat model that streams its answer and may ask for tool calls."""

    @property
    def model(self) -> str:
        """The model's name, as the provider knows it."""

    def stream(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), options: ChatOptions | None = None
    ) -> AsyncIterator[ChatEvent]:
        """Stream one completion: text deltas, tool call requests, then one `Completion`."""


async def complete(
    model: ChatModel,
    messages: Sequence[Message],
    *,
    tools: Sequence[ToolSpec] = (),
    options: ChatOptions | None = None,
) -> Completion:
    """Run one completion to its end and return the final `Completion`."""
    final: Completion | None = None
    async for event in model.stream(messages, tools=tools, options=options):
        if isinstance(event, Completion):
            final = event
    if final is None:
        # A ChatModel must end with a Completion; one that does not is a bug, not a provider failure.
        raise RuntimeError(f"{type(model).__name__} ended without a Completion")
    return final


async def validate(model: ChatModel) -> Completion:
    """Check that the model answers, with a real completion of a few tokens; raises a `ProviderError` if not."""
    return await complete(
        model,
        [Message.user("Reply with the single word OK.")],
        # No temperature: some reasoning models refuse any, and the answer's wording does not matter here.
        options=ChatOptions(max_tokens=5),
    )

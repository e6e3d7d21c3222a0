"""Chat model providers behind the `ChatModel` seam."""

from switchboard.agents.providers.base import (
    ChatEvent,
    ChatModel,
    ChatOptions,
    Completion,
    Message,
    TextDelta,
    ToolCallRequest,
    ToolSpec,
    Usage,
    complete,
    validate,
)
from switchboard.agents.providers.openai_compat import OpenAIChatModel, translate_error

__all__ = [
    "ChatEvent",
    "ChatModel",
    "ChatOptions",
    "Completion",
    "Message",
    "OpenAIChatModel",
    "TextDelta",
    "ToolCallRequest",
    "ToolSpec",
    "Usage",
    "complete",
    "translate_error",
    "validate",
]

"""`OpenAIChatModel`: any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, ...) through the `openai` SDK.

Every `openai` exception is translated here into a `ProviderError`, so nothing above this
module ever sees one.
"""

from __future__ import annotations

import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletionChunk

from switchboard.agents.errors import (
    ProviderAuthFailed,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnreachable,
)
from switchboard.agents.providers.base import (
    ChatEvent,
    ChatOptions,
    Completion,
    Message,
    TextDelta,
    ToolCallRequest,
    ToolSpec,
    Usage,
)

TokenLimitParam = Literal["max_tokens", "max_completion_tokens"]


class OpenAIChatModel:
    """A `ChatModel` over `openai.AsyncOpenAI`, streaming with tool calls."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float = 60.0,
        max_retries: int = 2,
        stream_usage: bool = True,
        token_limit_param: TokenLimitParam = "max_tokens",  # noqa: S107 - a parameter's name, not a secret
    ) -> None:
        self.base_url = base_url
        self._model = model
        # Some compatible servers reject `stream_options`; they can turn usage reporting off.
        self.stream_usage = stream_usage
        # OpenAI's reasoning models only accept `max_completion_tokens`; most compatible servers only `max_tokens`.
        self.token_limit_param = token_limit_param
        self.timeout = timeout
        # An empty key would make the SDK fall back to the server's environment; never use the operator's key.
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=max_retries
        )

    @property
    def model(self) -> str:
        """The model's name, as the provider knows it."""
        return self._model

    async def close(self) -> None:
        """Close the HTTP connections of the client."""
        await self._client.close()

    async def __aenter__(self) -> OpenAIChatModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def stream(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), options: ChatOptions | None = None
    ) -> AsyncIterator[ChatEvent]:
        """Stream one completion: text deltas, tool call requests, then one `Completion`."""
        request = self._request(messages, tools, options or ChatOptions())
        assembly = _Assembly()
        started = False
        try:
            chunks = await self._client.chat.completions.create(**request)
            try:
                async for chunk in chunks:
                    started = True
                    for text in assembly.add(chunk):
                        yield TextDelta(text)
            finally:
                await chunks.close()
        except openai.OpenAIError as exc:
            raise translate_error(exc, base_url=self.base_url, model=self._model, mid_answer=started) from exc
        calls = assembly.tool_calls()
        for call in calls:
            yield call
        yield Completion(
            finish_reason=assembly.finish_reason or ("tool_calls" if calls else "stop"),
            usage=assembly.usage,
            text="".join(assembly.text),
            tool_calls=calls,
        )

    def _request(self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ChatOptions) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self._model,
            "messages": [to_openai_message(m) for m in messages],
            "stream": True,
        }
        if tools:
            request["tools"] = [to_openai_tool(t) for t in tools]
        if self.stream_usage:
            request["stream_options"] = {"include_usage": True}
        if options.temperature is not None:
            request["temperature"] = options.temperature
        if options.max_tokens is not None:
            request[self.token_limit_param] = options.max_tokens
        if options.extra:
            request["extra_body"] = dict(options.extra)
        return request


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _Assembly:
    """Puts a completion back together from its streamed chunks."""

    text: list[str] = field(default_factory=list)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None

    def add(self, chunk: ChatCompletionChunk) -> list[str]:
        """Take one chunk in; return its text pieces."""
        if chunk.usage is not None:
            self.usage = Usage(
                prompt_tokens=chunk.usage.prompt_tokens or 0,
                completion_tokens=chunk.usage.completion_tokens or 0,
                total_tokens=chunk.usage.total_tokens or 0,
            )
        pieces: list[str] = []
        # We ask for one choice; a server that sends more gets the rest ignored rather than interleaved.
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta.content:
                self.text.append(delta.content)
                pieces.append(delta.content)
            for fragment in delta.tool_calls or ():
                self._add_fragment(fragment)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        return pieces

    def _add_fragment(self, fragment: Any) -> None:
        call = self.calls.setdefault(fragment.index, _PartialCall())
        # The id and name come once, in the first fragment; some servers repeat them, so the first one wins.
        if fragment.id and not call.id:
            call.id = fragment.id
        function = fragment.function
        if function is not None:
            if function.name and not call.name:
                call.name = function.name
            if function.arguments:
                call.arguments.append(function.arguments)

    def tool_calls(self) -> tuple[ToolCallRequest, ...]:
        """The complete tool calls, in the order the model numbered them."""
        return tuple(
            ToolCallRequest(
                id=call.id or f"call_{uuid.uuid4().hex[:24]}",
                name=call.name,
                arguments="".join(call.arguments) or "{}",
            )
            for _, call in sorted(self.calls.items())
        )


def to_openai_message(message: Message) -> dict[str, Any]:
    """One of our messages in the Chat Completions wire format."""
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}


def to_openai_tool(tool: ToolSpec) -> dict[str, Any]:
    """A tool in the Chat Completions wire format."""
    return {
        "type": "function",
        "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    }


def translate_error(exc: openai.OpenAIError, *, base_url: str, model: str, mid_answer: bool = False) -> ProviderError:
    """Our error for an `openai` SDK exception, with a message a user can act on."""
    where = f"the model provider at {base_url}"
    if mid_answer and isinstance(exc, openai.APIConnectionError):
        return ProviderUnreachable(f"{where.capitalize()} dropped the connection mid-answer: {_cause(exc)}")
    if isinstance(exc, openai.APITimeoutError):
        return ProviderUnreachable(f"Cannot reach {where}: it did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderUnreachable(f"Cannot reach {where}: {_cause(exc)}")
    if isinstance(exc, openai.APIStatusError):
        status, said = exc.status_code, _provider_message(exc)
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return ProviderAuthFailed(f"{where.capitalize()} refused the API key ({status}): {said}")
        if isinstance(exc, openai.RateLimitError):
            return ProviderRateLimited(f"{where.capitalize()} is rate limiting requests (429): {said}")
        if isinstance(exc, openai.NotFoundError):
            return ProviderRejected(f"{where.capitalize()} does not know model '{model}' (404): {said}")
        if 400 <= status < 500:
            return ProviderRejected(f"{where.capitalize()} refused the request ({status}): {said}")
        return ProviderError(f"{where.capitalize()} failed ({status}): {said}")
    if isinstance(exc, openai.APIError):
        return ProviderError(f"{where.capitalize()} sent an answer we cannot read: {exc.message}")
    return ProviderError(f"{where.capitalize()} failed: {exc}")


def _provider_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return exc.response.reason_phrase or "no details"


def _cause(exc: BaseException) -> str:
    # The SDK's own message is a bare "Connection error."; the root cause says what actually happened.
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused (is the server running, and is the URL right?)"
        if isinstance(cause, socket.gaierror):
            return "its host name does not resolve"
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake failed ({cause})"
    root = chain[-1]
    return (str(root) or type(root).__name__) if root is not exc else "connection error"

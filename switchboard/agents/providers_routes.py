"""`/api/v1/providers`: the caller's model providers, a cost estimate, one completion (whole or streamed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response
from quart_schema import validate_request, validate_response

from switchboard.agents import providers_service as service
from switchboard.agents.providers.base import Message
from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.openapi import SSE_EVENT, responds
from switchboard.platform.sse import sse_response
from switchboard.platform.web import runtime

model_providers = Blueprint("model_providers", __name__, url_prefix="/api/v1/providers")


class ModelProviderOut(BaseModel):
    """A model provider the caller can reach."""

    name: str
    source: Literal["user", "organization", "platform", "offline"]
    model: str
    base_url: str | None
    capabilities: list[str]
    effective: bool = Field(description="True for the one that answers the caller's calls.")


class MessageIn(BaseModel):
    """One message of the conversation sent to the model."""

    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1, max_length=100_000)


class CallIn(BaseModel):
    """A completion to make: the messages, and optionally a cap on the answer and a temperature."""

    messages: list[MessageIn] = Field(min_length=1, max_length=100)
    max_tokens: int | None = Field(None, ge=1, le=32_000)
    temperature: float | None = Field(None, ge=0, le=2)

    def as_messages(self) -> list[Message]:
        """The messages in the model's own terms."""
        return [Message(m.role, m.content) for m in self.messages]


class TokenUsageOut(BaseModel):
    """Tokens one completion spent, as the provider reported them."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class CallOut(BaseModel):
    """One completion's answer and what it spent."""

    id: str
    model: str
    text: str
    finish_reason: str
    usage: TokenUsageOut | None


class CallEstimateOut(BaseModel):
    """What a call is expected to take: tokens (estimated) and their price (MODEL_PRICES; null if unlisted)."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: Decimal | None


@model_providers.get("")
@require_user
@validate_response(list[ModelProviderOut])
async def list_model_providers() -> list[ModelProviderOut]:
    """The providers the caller can reach (their own or their org's, the platform's, offline) and which answers."""
    found = await service.providers(current_principal(), runtime().settings)
    return [ModelProviderOut(**{**p.__dict__, "capabilities": list(p.capabilities)}) for p in found]


@model_providers.post("/estimate")
@require_user
@validate_request(CallIn)
@validate_response(CallEstimateOut)
async def estimate(data: CallIn) -> CallEstimateOut:
    """Tokens and cost of a call through the caller's model, before making it."""
    rt = runtime()
    model = await service.effective_model(current_principal(), rt)
    found = service.estimate(rt.settings, model, data.as_messages(), data.max_tokens)
    total = found.prompt_tokens + found.completion_tokens
    return CallEstimateOut(
        model=found.model,
        prompt_tokens=found.prompt_tokens,
        completion_tokens=found.completion_tokens,
        total_tokens=total,
        cost=found.cost,
    )


@model_providers.post("/execute")
@require_user
@validate_request(CallIn)
@validate_response(CallOut)
async def execute(data: CallIn) -> CallOut:
    """One completion through the caller's model, counted as usage (503 `model_required` without a model)."""
    call_id, model, final = await service.execute(
        current_principal(), runtime(), data.as_messages(), data.max_tokens, data.temperature
    )
    usage = final.usage
    return CallOut(
        id=call_id,
        model=model,
        text=final.text,
        finish_reason=final.finish_reason,
        usage=None if usage is None else TokenUsageOut(**usage.__dict__),
    )


@model_providers.post("/execute/stream")
@require_user
@validate_request(CallIn)
@responds(
    200,
    "`text_delta` events as the model writes, then `complete` (text, usage) or `error`",
    {"text/event-stream": SSE_EVENT},
)
async def execute_stream(data: CallIn) -> Response:
    """The same call, streamed over SSE token by token (503 `model_required` without a model)."""
    _, events = await service.execute_stream(
        current_principal(), runtime(), data.as_messages(), data.max_tokens, data.temperature
    )
    return sse_response(_sse(events))


async def _sse(events: AsyncIterator[tuple[str, dict[str, Any]]]) -> AsyncIterator[bytes]:
    yield b": connected\n\n"
    try:
        async for name, data in events:
            yield f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
    except Exception as exc:  # the model failed mid-stream: the client is told, in the stream
        message = getattr(exc, "message", "The model failed")
        code = getattr(exc, "code", "model_error")
        yield f"event: error\ndata: {json.dumps({'code': code, 'message': message})}\n\n".encode()

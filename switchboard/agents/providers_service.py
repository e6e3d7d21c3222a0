"""Direct model calls (`/api/v1/providers`): what answers the caller, one completion, its estimate, its usage."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from switchboard.agents.chat_models import ChatModels, ChosenModel
from switchboard.agents.model_settings import resolved_model_settings
from switchboard.agents.providers.base import ChatOptions, Completion, Message, TextDelta, complete
from switchboard.agents.providers.offline import OfflineResponder
from switchboard.agents.usage import MeteredModel, UsageSubject, price_of
from switchboard.config import Settings
from switchboard.platform.auth import Principal
from switchboard.platform.errors import ServiceUnavailable
from switchboard.platform.runtime import Runtime

CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text; an estimate, not a tokenizer
DEFAULT_COMPLETION_TOKENS = 256
MODEL_REQUIRED = (
    "A direct model call needs a language model, and only the offline responder is configured. Set your own "
    "under Settings > Models, or ask an operator to set CHAT_BASE_URL for everyone."
)


class ModelRequired(ServiceUnavailable):
    """No language model is configured for the caller."""

    code, message = "model_required", MODEL_REQUIRED


@dataclass(frozen=True)
class Provider:
    """A model provider the caller can reach, and what it can do."""

    name: str
    source: str  # user | organization | platform | offline
    model: str
    base_url: str | None
    capabilities: tuple[str, ...]
    effective: bool


@dataclass(frozen=True)
class Estimate:
    """Tokens and cost a call is expected to take."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal | None


async def providers(principal: Principal, settings: Settings) -> list[Provider]:
    """The caller's own or org model (BYOK), the platform's, the offline responder; `effective`: who answers."""
    found: list[Provider] = []
    own = await resolved_model_settings(principal, settings)
    full = ("chat", "stream", "tools", "usage")
    if own is not None:
        found.append(Provider(own.provider, own.source, own.chat_model, own.base_url, full, True))
    if settings.chat_base_url:
        found.append(Provider("platform", "platform", settings.chat_model, None, full, own is None))
    found.append(Provider("offline", "offline", OfflineResponder.model, None, ("chat",), not found))
    return found


def estimate(settings: Settings, model: str, messages: Sequence[Message], max_tokens: int | None) -> Estimate:
    """A call's tokens (characters / 4 for the prompt, `max_tokens` for the answer) and their price."""
    prompt = sum(len(m.content) for m in messages) // CHARS_PER_TOKEN + 4 * len(messages)
    completion = max_tokens or DEFAULT_COMPLETION_TOKENS
    return Estimate(model, prompt, completion, price_of(settings.model_prices, model, prompt, completion))


async def choose(principal: Principal, runtime: Runtime) -> ChosenModel:
    """The caller's effective model; 503 `model_required` when only the offline responder is there."""
    chosen = await runtime.resource(ChatModels).choose(principal, runtime.settings)
    if isinstance(chosen.model, OfflineResponder):
        await chosen.aclose()
        raise ModelRequired()
    return chosen


async def effective_model(principal: Principal, runtime: Runtime) -> str:
    """The name of the model that would answer the caller (for an estimate)."""
    chosen = await runtime.resource(ChatModels).choose(principal, runtime.settings)
    try:
        return chosen.model.model
    finally:
        await chosen.aclose()


def _options(max_tokens: int | None, temperature: float | None) -> ChatOptions:
    return ChatOptions(temperature=temperature, max_tokens=max_tokens)


async def execute(
    principal: Principal,
    runtime: Runtime,
    messages: Sequence[Message],
    max_tokens: int | None,
    temperature: float | None,
) -> tuple[str, str, Completion]:
    """One completion through the caller's model, its usage recorded: (call id, model, final completion)."""
    call_id = str(uuid.uuid4())
    chosen = await choose(principal, runtime)
    try:
        metered = MeteredModel(chosen.model, UsageSubject.of(principal, "provider_call", call_id))
        final = await complete(metered, messages, options=_options(max_tokens, temperature))
        return call_id, chosen.model.model, final
    finally:
        await chosen.aclose()


async def execute_stream(
    principal: Principal,
    runtime: Runtime,
    messages: Sequence[Message],
    max_tokens: int | None,
    temperature: float | None,
) -> tuple[str, AsyncIterator[tuple[str, dict[str, Any]]]]:
    """The call id and its events: ("text_delta", {delta}) per token, then ("complete", {text, usage}).

    The model is chosen before the stream starts, so a caller without one gets a plain 503, not a stream.
    """
    call_id = str(uuid.uuid4())
    chosen = await choose(principal, runtime)
    metered = MeteredModel(chosen.model, UsageSubject.of(principal, "provider_call", call_id))

    async def events() -> AsyncIterator[tuple[str, dict[str, Any]]]:
        try:
            async for event in metered.stream(messages, options=_options(max_tokens, temperature)):
                if isinstance(event, TextDelta):
                    yield "text_delta", {"delta": event.text}
                elif isinstance(event, Completion):
                    usage = event.usage
                    yield (
                        "complete",
                        {
                            "id": call_id,
                            "model": chosen.model.model,
                            "text": event.text,
                            "usage": None if usage is None else asdict(usage),
                        },
                    )
        finally:
            await chosen.aclose()

    return call_id, events()

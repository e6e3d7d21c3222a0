"""Which chat model answers a person: their own (BYOK), else the platform's, else the offline responder.

`ChatModels` is the process's seam for that choice, provided at start-up: a deployment keeps
`choose_chat_model`, a test passes a factory of its own to `create_app` or `build_worker`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from switchboard.agents.model_settings import chat_model_for
from switchboard.agents.providers.base import ChatModel
from switchboard.agents.providers.offline import OfflineResponder
from switchboard.agents.providers.openai_compat import OpenAIChatModel
from switchboard.config import Settings
from switchboard.platform.auth import Principal


@dataclass(frozen=True)
class ChosenModel:
    """A chat model for one task, and how to let go of it afterwards."""

    model: ChatModel
    close: Callable[[], Awaitable[None]] | None = None

    async def aclose(self) -> None:
        """Close the model's client, if it has one."""
        if self.close is not None:
            await self.close()


ChatModelFactory = Callable[[Principal, Settings], Awaitable[ChosenModel]]
"""Picks the chat model that answers `principal`; the seam `ChatModels` wraps."""


async def choose_chat_model(principal: Principal, settings: Settings) -> ChosenModel:
    """The person's own model, else the platform's (CHAT_BASE_URL), else the offline responder."""
    own = await chat_model_for(principal, settings)
    if own is not None:
        return ChosenModel(own, own.close)
    if settings.chat_base_url:
        platform = OpenAIChatModel(
            base_url=settings.chat_base_url, api_key=settings.chat_api_key or "none", model=settings.chat_model
        )
        return ChosenModel(platform, platform.close)
    return ChosenModel(OfflineResponder())


@dataclass(frozen=True)
class ChatModels:
    """The process's chat-model factory, found on the runtime with `runtime.resource(ChatModels)`."""

    factory: ChatModelFactory = choose_chat_model

    async def choose(self, principal: Principal, settings: Settings) -> ChosenModel:
        """The chat model that answers `principal`; close it with `aclose` after use."""
        return await self.factory(principal, settings)

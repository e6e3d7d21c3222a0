"""Token usage: every completion a metered model makes is recorded against what it was made for.

`MeteredModel` wraps a chat model for one subject (a chat task, a workflow step, a direct call):
it passes the stream through unchanged and, when the provider reports usage on the final
`Completion`, writes one `UsageRecord`. A provider that reports none (the offline responder)
leaves no record: nothing is guessed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from switchboard.agents.models import UsageRecord
from switchboard.agents.providers.base import ChatEvent, ChatModel, ChatOptions, Completion, Message, ToolSpec
from switchboard.platform.auth import Principal


@dataclass(frozen=True)
class UsageSubject:
    """What a model call is made for, and for whom."""

    org_id: uuid.UUID
    user_id: uuid.UUID
    subject_type: str  # chat_task | workflow_step | provider_call | ingest
    subject_id: str

    @classmethod
    def of(cls, principal: Principal, subject_type: str, subject_id: uuid.UUID | str) -> UsageSubject:
        """A subject of the principal's org and user."""
        return cls(principal.org_id, principal.user_id, subject_type, str(subject_id))


class MeteredModel:
    """A chat model whose reported usage is recorded for one subject."""

    def __init__(self, inner: ChatModel, subject: UsageSubject) -> None:
        self.inner, self.subject = inner, subject

    @property
    def model(self) -> str:
        """The wrapped model's name."""
        return self.inner.model

    async def stream(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = (), options: ChatOptions | None = None
    ) -> AsyncIterator[ChatEvent]:
        """The wrapped model's stream; its usage recorded when the final `Completion` carries it."""
        async for event in self.inner.stream(messages, tools=tools, options=options):
            if isinstance(event, Completion) and event.usage is not None:
                await record(self.subject, self.inner.model, event.usage)
            yield event


async def record(subject: UsageSubject, model: str, usage: object) -> UsageRecord:
    """Write one usage record from a provider's reported usage."""
    prompt = getattr(usage, "prompt_tokens", 0) or 0
    completion = getattr(usage, "completion_tokens", 0) or 0
    return await record_tokens(subject, model, prompt, completion, getattr(usage, "total_tokens", 0) or 0)


async def record_tokens(
    subject: UsageSubject, model: str, prompt_tokens: int, completion_tokens: int = 0, total_tokens: int | None = None
) -> UsageRecord:
    """Write one usage record from counted tokens (an embedding has input tokens only); the total is their sum
    unless a provider said otherwise."""
    return await UsageRecord.create(
        org_id=subject.org_id,
        user_id=subject.user_id,
        subject_type=subject.subject_type,
        subject_id=subject.subject_id,
        model=model[:200],
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens if total_tokens is None else total_tokens,
    )


@dataclass(frozen=True)
class Totals:
    """Tokens and cost summed over usage records."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost: Decimal | None


def price_of(prices: dict[str, dict[str, float]], model: str, prompt: int, completion: int) -> Decimal | None:
    """Cost in the price table's currency (prices per million tokens: {"model": {"prompt": x, "completion": y}});
    None for a model the table does not list."""
    price = prices.get(model) or prices.get("*")
    if price is None:
        return None
    per_million = Decimal(1_000_000)
    cost = Decimal(str(price.get("prompt", 0))) * prompt + Decimal(str(price.get("completion", 0))) * completion
    return (cost / per_million).quantize(Decimal("0.000001"))


async def totals(
    org_id: uuid.UUID, subject_type: str, subject_ids: Sequence[str], prices: dict[str, dict[str, float]]
) -> Totals:
    """The usage of some subjects of one org, summed, with its cost (None if a model has no price)."""
    rows = await UsageRecord.filter(org_id=org_id, subject_type=subject_type, subject_id__in=list(subject_ids))
    cost: Decimal | None = Decimal(0)
    for row in rows:
        one = price_of(prices, row.model, row.prompt_tokens, row.completion_tokens)
        cost = None if one is None or cost is None else cost + one
    return Totals(
        len(rows),
        sum(r.prompt_tokens for r in rows),
        sum(r.completion_tokens for r in rows),
        sum(r.total_tokens for r in rows),
        cost,
    )

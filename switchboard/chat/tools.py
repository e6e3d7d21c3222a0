"""The `memory` agent: recall what Switchboard knows about the user, and keep a new fact."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from switchboard.agents import Agent, CallContext, Tool
from switchboard.chat import memory


class RecallArgs(BaseModel):
    """Arguments of recall_memories."""

    query: str = Field(min_length=1, max_length=500, description="What to remember about, in a few words.")
    limit: int = Field(5, ge=1, le=20, description="How many memories to return.")


class RememberArgs(BaseModel):
    """Arguments of remember_fact."""

    content: str = Field(min_length=1, max_length=2000, description="The fact, preference or pattern, one sentence.")
    category: Literal["memories", "preferences", "facts", "patterns"] = "facts"
    importance: float = Field(0.5, ge=0, le=1, description="0 (trivia) to 1 (always relevant).")


def memory_agent() -> Agent:
    """The agent that recalls and keeps facts about the user."""

    async def recall_memories(ctx: CallContext, args: RecallArgs) -> dict[str, Any]:
        found = await memory.recall(ctx.principal.org_id, ctx.principal.user_id, args.query, args.limit)
        return {"memories": [{"category": m.category, "content": m.content, "importance": m.importance} for m in found]}

    async def remember_fact(ctx: CallContext, args: RememberArgs) -> dict[str, Any]:
        kept = await memory.create_memory(ctx.principal, args.content, args.category, args.importance)
        return {"remembered": kept.content, "id": str(kept.id)}

    return Agent(
        name="memory",
        description="Recalls what is known about the user (preferences, facts, patterns) and keeps new facts.",
        tools=(
            Tool(
                "recall_memories",
                "Recall what is known about the user that is relevant to a topic.",
                RecallArgs,
                recall_memories,
            ),
            # a write: it changes what Switchboard keeps about the person, so it asks first by default
            Tool(
                "remember_fact",
                "Keep a fact about the user for later conversations.",
                RememberArgs,
                remember_fact,
                kind="write",
            ),
        ),
    )

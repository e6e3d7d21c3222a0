"""A `noop` agent for bench/workflows.py: a tool that does nothing, so what is measured is the engine."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from switchboard.agents.registry import Agent, CallContext, Tool


class NoArgs(BaseModel):
    """No arguments."""


async def _noop(ctx: CallContext, args: NoArgs) -> dict[str, Any]:
    return {}


def agents(runtime: Any) -> list[Agent]:
    """The `noop` agent."""
    return [Agent("noop", "Does nothing (benchmarks).", (Tool("noop", "Do nothing.", NoArgs, _noop),))]

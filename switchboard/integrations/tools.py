"""Each connector as an agent: its tools call the caller's connection (their own, else their org's).

Write tools ask for confirmation by default, like every write tool, subject to the four tiers.
A workflow step's idempotency key comes along in the `CallContext`, so a retried step's write
is made once (the ledger) and, where the provider dedupes by a key, carries that key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pydantic

from switchboard.agents.registry import Agent, CallContext, Tool
from switchboard.integrations.catalog import Connector, ConnectorTool, connectors
from switchboard.integrations.service import Integrations, call_tool
from switchboard.platform.runtime import Runtime


def _function(
    runtime: Runtime, found: Connector, tool: ConnectorTool
) -> Callable[[CallContext, pydantic.BaseModel], Awaitable[Any]]:
    async def run(ctx: CallContext, args: pydantic.BaseModel) -> Any:
        integ = runtime.resource(Integrations)
        return await call_tool(integ, ctx.principal, found, tool, args, idempotency_key=ctx.idempotency_key)

    return run


def integration_agents(runtime: Runtime) -> list[Agent]:
    """One agent per connector, named by its type."""
    return [
        Agent(
            name=found.type,
            description=f"{found.description} Uses your {found.name} connection (or your organization's).",
            tools=tuple(
                Tool(t.name, t.description, t.args_model, _function(runtime, found, t), kind=t.kind)
                for t in found.tools
            ),
        )
        for found in connectors().values()
    ]

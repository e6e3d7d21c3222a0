"""The decision on one tool call, from plain data: the server decides, whatever the model asked for.

Executors call `switchboard.agents.authorize_tool_call` (in `policies`), which loads the
caller's settings, calls this and audits refusals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pydantic

from switchboard.agents.access import Confirmation, Decision, PolicySet, resolve_confirmation, resolve_tool
from switchboard.agents.errors import InvalidToolArguments
from switchboard.agents.registry import Agent, Tool

Outcome = Literal["allow", "deny", "confirm"]


@dataclass(frozen=True)
class Verdict:
    """What to do with one tool call: run it, refuse it, or ask a person first."""

    outcome: Outcome
    reason: str
    arguments: pydantic.BaseModel | None = None  # validated; None when the call is refused
    access: Decision | None = None
    confirmation: Confirmation | None = None
    errors: tuple[dict[str, Any], ...] = ()  # what is wrong with the arguments, for the model

    @property
    def allowed(self) -> bool:
        """True when the call may run now."""
        return self.outcome == "allow"


def decide_tool_call(
    policies: PolicySet,
    agent: Agent,
    tool: Tool[Any],
    arguments: str | Mapping[str, Any] | None,
) -> Verdict:
    """Decide a tool call: `deny` if the user may not use it or the arguments are invalid,
    `confirm` if a person must approve it first, otherwise `allow`."""
    if not agent.has_tool(tool):
        return Verdict("deny", f"Agent {agent.name} has no tool named {tool.name}")
    access = resolve_tool(policies, agent, tool)
    if not access.allowed:
        return Verdict("deny", access.reason, access=access)
    try:
        parsed = tool.parse_arguments(arguments)
    except InvalidToolArguments as exc:
        errors = tuple(exc.details or ())
        return Verdict("deny", exc.message, access=access, errors=errors)
    confirmation = resolve_confirmation(policies, tool)
    if confirmation.required:
        return Verdict("confirm", confirmation.reason, parsed, access, confirmation)
    return Verdict("allow", access.reason, parsed, access, confirmation)

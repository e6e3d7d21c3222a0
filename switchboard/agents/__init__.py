"""Agents and tools: the registry, the 4-tier access resolver, the enforcement point and the model providers.

Other contexts import from here, not from the modules inside.
"""

from switchboard.agents.access import (
    Access,
    Confirmation,
    Decision,
    PolicySet,
    TierPolicy,
    UserPreferences,
    resolve_agent,
    resolve_confirmation,
    resolve_tool,
    usable_agents,
)
from switchboard.agents.authorize import Verdict, authorize_tool_call
from switchboard.agents.registry import (
    Agent,
    CallContext,
    Registry,
    Tool,
    ToolKind,
    needs_confirmation_by_default,
    tool_result_text,
)

__all__ = [
    "Access",
    "Agent",
    "CallContext",
    "Confirmation",
    "Decision",
    "PolicySet",
    "Registry",
    "TierPolicy",
    "Tool",
    "ToolKind",
    "UserPreferences",
    "Verdict",
    "authorize_tool_call",
    "needs_confirmation_by_default",
    "resolve_agent",
    "resolve_confirmation",
    "resolve_tool",
    "tool_result_text",
    "usable_agents",
]

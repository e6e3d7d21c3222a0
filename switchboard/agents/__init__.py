"""Agents and tools: the registry, the 4-tier access resolver, the enforcement point, the agent loop,
BYOK model settings and the model providers.

Other contexts import from here, not from the modules inside.
"""

from switchboard.agents import service
from switchboard.agents.access import (
    Access,
    Confirmation,
    Decision,
    PolicySet,
    TierPolicy,
    UserPreferences,
    Verdict,
    decide_tool_call,
    resolve_agent,
    resolve_confirmation,
    resolve_tool,
    usable_agents,
)
from switchboard.agents.chat_models import ChatModelFactory, ChatModels, ChosenModel, choose_chat_model
from switchboard.agents.model_settings import ResolvedModelSettings, chat_model_for, resolved_model_settings
from switchboard.agents.policies import authorize_tool_call, load_policies
from switchboard.agents.providers.base import ChatModel, Message, TextDelta, complete
from switchboard.agents.providers.offline import NOTHING_FOUND, OfflineResponder, compose_answer
from switchboard.agents.registry import (
    Agent,
    CallContext,
    Registry,
    Tool,
    ToolKind,
    needs_confirmation_by_default,
)
from switchboard.agents.results import FoundPassages, Passage, found_passages, tool_result_text
from switchboard.agents.runner import (
    EventSink,
    PendingCall,
    RunOutcome,
    messages_from_json,
    messages_to_json,
    run_agents,
)
from switchboard.agents.service import usable_agent
from switchboard.agents.usage import MeteredModel, UsageSubject, price_of, record_tokens, totals

__all__ = [
    "NOTHING_FOUND",
    "Access",
    "Agent",
    "CallContext",
    "ChatModel",
    "ChatModelFactory",
    "ChatModels",
    "ChosenModel",
    "Confirmation",
    "Decision",
    "EventSink",
    "FoundPassages",
    "Message",
    "MeteredModel",
    "OfflineResponder",
    "Passage",
    "PendingCall",
    "PolicySet",
    "Registry",
    "ResolvedModelSettings",
    "RunOutcome",
    "TextDelta",
    "TierPolicy",
    "Tool",
    "ToolKind",
    "UsageSubject",
    "UserPreferences",
    "Verdict",
    "authorize_tool_call",
    "chat_model_for",
    "choose_chat_model",
    "complete",
    "compose_answer",
    "decide_tool_call",
    "found_passages",
    "load_policies",
    "messages_from_json",
    "messages_to_json",
    "needs_confirmation_by_default",
    "price_of",
    "record_tokens",
    "resolve_agent",
    "resolve_confirmation",
    "resolve_tool",
    "resolved_model_settings",
    "run_agents",
    "service",
    "tool_result_text",
    "totals",
    "usable_agent",
    "usable_agents",
]

"""Turning decisions and stored settings into response schemas (routes only)."""

from __future__ import annotations

from switchboard.agents.access import Confirmation, Decision
from switchboard.agents.models import AgentPolicy, ModelSettings
from switchboard.agents.schemas import (
    AgentOut,
    AgentPermissionOut,
    ConfirmationOut,
    DecisionOut,
    ModelSettingsOut,
    OverrideOut,
    TierAgentOut,
    TierToolOut,
    ToolOut,
    ToolPermissionOut,
)
from switchboard.agents.service import AgentState, TierAgentView, ToolState, UserOverride


def decision_out(decision: Decision) -> DecisionOut:
    """A decision with every tier's raw value."""
    data = decision.as_dict()
    return DecisionOut(allowed=decision.allowed, source=decision.source, reason=decision.reason, tiers=data["tiers"])


def confirmation_out(confirmation: Confirmation) -> ConfirmationOut:
    """A confirmation decision with every tier's raw setting."""
    data = confirmation.as_dict()
    return ConfirmationOut(
        required=confirmation.required, source=confirmation.source, reason=confirmation.reason, tiers=data["tiers"]
    )


def tool_out(state: ToolState) -> ToolOut:
    """A granted tool as its user sees it."""
    tool = state.tool
    return ToolOut(
        name=tool.name,
        description=tool.description,
        kind=tool.kind,
        parameters=tool.parameters(),
        enabled=state.enabled,
        confirmation_required=state.confirmation.required,
        source=state.access.source,
    )


def agent_out(state: AgentState) -> AgentOut:
    """A usable agent with its granted tools."""
    return AgentOut(
        name=state.agent.name, description=state.agent.description, tools=[tool_out(t) for t in state.tools]
    )


def permission_out(state: AgentState) -> AgentPermissionOut:
    """An agent's decision for the caller, allowed or not, with every tool's."""
    return AgentPermissionOut(
        name=state.agent.name,
        allowed=state.access.allowed,
        decision=decision_out(state.access),
        tools=[
            ToolPermissionOut(
                name=t.tool.name,
                allowed=t.access.allowed,
                confirmation_required=t.confirmation.required,
                decision=decision_out(t.access),
            )
            for t in state.tools
        ],
    )


def tier_agent_out(tier: str, view: TierAgentView) -> TierAgentOut:
    """One agent at one tier: the tier's own values and the effective results."""
    row, state = view.setting, view.state
    tools = [
        TierToolOut(
            name=t.tool.name,
            kind=t.tool.kind,
            access=row.tools.get(t.tool.name, "inherit") if row else "inherit",
            confirm=row.confirm.get(t.tool.name) if row else None,
            effective=decision_out(t.access),
            confirmation=confirmation_out(t.confirmation),
        )
        for t in state.tools
    ]
    return TierAgentOut(
        name=state.agent.name,
        description=state.agent.description,
        tier=tier,
        access=row.access if row else "inherit",
        effective=decision_out(state.access),
        tools=tools,
        updated_at=row.updated_at if row else None,
        updated_by=row.updated_by_id if row else None,
    )


def override_out(found: UserOverride) -> OverrideOut:
    """One member's override."""
    row: AgentPolicy = found.row
    assert row.user_id is not None
    return OverrideOut(
        user_id=row.user_id,
        email=found.email,
        name=found.name,
        agent=row.agent,
        access=row.access,
        tools=row.tools,
        confirm=row.confirm,
        updated_at=row.updated_at,
    )


def model_settings_out(row: ModelSettings | None, source: str, key_problem: str | None = None) -> ModelSettingsOut:
    """Stored model settings without the key; None is the platform default (or nothing at that scope)."""
    if row is None:
        return ModelSettingsOut(source=source, configured=False)
    return ModelSettingsOut(
        source="user" if row.user_id else "organization",
        configured=True,
        provider=row.provider,
        base_url=row.base_url,
        chat_model=row.chat_model,
        embedding_model=row.embedding_model,
        has_api_key=bool(row.api_key_encrypted),
        api_key_hint=row.api_key_hint,
        api_key_problem=key_problem,
        validated_at=row.validated_at,
        updated_at=row.updated_at,
    )

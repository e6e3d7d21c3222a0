"""Who may use which agent and tool, read from the database: the `PolicySet` of a principal and THE enforcement point.

`authorize_tool_call` is what every executor of a tool call (the chat runner, workflow
steps) asks before running anything: it loads the caller's settings, decides, and audits
every refusal. The user-facing views (`usable`, `permissions`, the preference tier) live
here too; the admin tiers are in `tiers`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

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
)
from switchboard.agents.authorize import Verdict, decide_tool_call
from switchboard.agents.errors import UnknownAgent
from switchboard.agents.models import AgentPolicy, policy_scope
from switchboard.agents.registry import Agent, Registry, Tool
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Forbidden, NotFound, ValidationFailed
from switchboard.platform.orgs.models import GroupMember, Membership


def scopes_of(principal: Principal) -> list[str]:
    """Every settings scope that applies to the principal in their org."""
    return [
        policy_scope("platform"),
        policy_scope("organization", principal.org_id),
        *(policy_scope("group", group_id=g) for g in sorted(principal.group_ids)),
        policy_scope("user", principal.org_id, user_id=principal.user_id),
        policy_scope("preference", principal.org_id, user_id=principal.user_id),
    ]


def policy_set(rows: Iterable[AgentPolicy], principal: Principal | None = None) -> PolicySet:
    """A `PolicySet` from stored rows; with a principal, rows of other orgs and groups are ignored."""
    tiers: dict[str, dict[str, dict[str, Any]]] = {}
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        if principal is not None and row.tier != "platform" and row.org_id != principal.org_id:
            continue  # a defence in depth: scopes already name the org
        if row.tier == "group":
            if principal is not None and row.group_id not in principal.group_ids:
                continue
            into = groups.setdefault(str(row.group_id), {"agents": {}, "tools": {}, "confirm": {}})
        else:
            into = tiers.setdefault(row.tier, {"agents": {}, "tools": {}, "confirm": {}})
        if row.access != "inherit":
            into["agents"][row.agent] = row.access
        into["tools"].update(row.tools)
        into["confirm"].update(row.confirm)

    def tier(name: str) -> TierPolicy:
        found = tiers.get(name)
        return TierPolicy(**found) if found else TierPolicy()

    preference = tiers.get("preference", {})
    return PolicySet(
        platform=tier("platform"),
        organization=tier("organization"),
        groups={gid: TierPolicy(**g) for gid, g in groups.items()},
        user=tier("user"),
        preferences=UserPreferences(tools=preference.get("tools", {}), confirm=preference.get("confirm", {})),
    )


async def load_policies(principal: Principal) -> PolicySet:
    """Every setting that applies to the principal, in one query."""
    rows = await AgentPolicy.filter(scope__in=scopes_of(principal))
    return policy_set(rows, principal)


async def authorize_tool_call(
    principal: Principal,
    agent: Agent,
    tool: Tool[Any],
    arguments: str | Mapping[str, Any] | None,
    *,
    policies: PolicySet | None = None,
    task_id: str | None = None,
) -> Verdict:
    """THE check before a tool runs: `allow`, `deny` (audited) or `confirm`, decided in the server.

    `policies` may be passed when the caller has just loaded them for the same principal.
    """
    policies = policies if policies is not None else await load_policies(principal)
    verdict = decide_tool_call(policies, agent, tool, arguments)
    if verdict.outcome == "deny":
        await audit.record(
            "tool.denied",
            actor=principal,
            target_type="tool",
            target_id=tool.name,
            outcome="denied",
            details={
                "agent": agent.name,
                "reason": verdict.reason,
                "source": verdict.access.source if verdict.access else None,
                "task_id": task_id,
            },
        )
    return verdict


async def member_principal(acting: Principal, user_id: str | uuid.UUID) -> Principal:
    """The principal of another member of the acting org (admins only); NotFound for anyone else."""
    if str(user_id) == str(acting.user_id):
        return acting
    if not acting.is_admin:
        raise Forbidden("Only an organization admin can look at another member's access")
    try:
        key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("Member not found") from None
    membership = await Membership.get_or_none(org_id=acting.org_id, user_id=key).select_related("user")
    if membership is None:
        raise NotFound("Member not found")
    groups = await GroupMember.filter(user_id=key, group__org_id=acting.org_id).values_list("group_id", flat=True)
    return Principal(
        user_id=key,
        email=membership.user.email,
        org_id=acting.org_id,
        role=membership.role,
        group_ids=frozenset(groups),  # type: ignore[arg-type]
        auth_method=acting.auth_method,
        is_superadmin=membership.user.is_superadmin,
    )


@dataclass(frozen=True)
class ToolState:
    """A tool as one user sees it: may they use it, is it on, must calls be confirmed."""

    tool: Tool[Any]
    access: Decision  # with the user's preference
    granted: Decision  # without it: what the tiers above allow
    confirmation: Confirmation

    @property
    def enabled(self) -> bool:
        """Usable now (granted and not turned off by the user)."""
        return self.access.allowed


@dataclass(frozen=True)
class AgentState:
    """An agent as one user sees it, with every tool's state."""

    agent: Agent
    access: Decision
    tools: tuple[ToolState, ...]


def agent_state(policies: PolicySet, agent: Agent) -> AgentState:
    """One agent's decisions for the user of `policies`."""
    without_preference = replace(policies, preferences=UserPreferences())
    tools = tuple(
        ToolState(
            tool,
            resolve_tool(policies, agent, tool),
            resolve_tool(without_preference, agent, tool),
            resolve_confirmation(policies, tool),
        )
        for tool in agent.tools
    )
    return AgentState(agent, resolve_agent(policies, agent.name), tools)


async def permissions(principal: Principal, registry: Registry) -> list[AgentState]:
    """Every agent with the caller's decision and the reason for it, allowed or not."""
    policies = await load_policies(principal)
    return [agent_state(policies, agent) for agent in registry.agents()]


async def usable(principal: Principal, registry: Registry) -> list[AgentState]:
    """The agents the caller may use, each with the tools an admin granted (the caller may have turned some off)."""
    policies = await load_policies(principal)
    found: list[AgentState] = []
    for agent in registry.agents():
        state = agent_state(policies, agent)
        if state.access.allowed:
            found.append(replace(state, tools=tuple(t for t in state.tools if t.granted.allowed)))
    return found


async def usable_agent(principal: Principal, registry: Registry, agent_name: str) -> AgentState:
    """One agent the caller may use; `UnknownAgent` (404) when there is none or it is denied to them."""
    for state in await usable(principal, registry):
        if state.agent.name == agent_name:
            return state
    raise UnknownAgent(f"No agent named {agent_name}")


async def preferences(
    principal: Principal, registry: Registry, agent_name: str
) -> tuple[AgentState, AgentPolicy | None]:
    """The caller's own settings for an agent they may use, and the agent's state."""
    state = await usable_agent(principal, registry, agent_name)
    row = await AgentPolicy.get_or_none(
        scope=policy_scope("preference", principal.org_id, user_id=principal.user_id), agent=agent_name
    )
    return state, row


async def set_preferences(
    principal: Principal,
    registry: Registry,
    agent_name: str,
    tools: Mapping[str, Access],
    confirm: Mapping[str, bool],
) -> tuple[AgentState, AgentPolicy | None]:
    """Replace the caller's own settings for an agent; they can only narrow what admins allow."""
    state = await usable_agent(principal, registry, agent_name)
    check_tool_names(state.agent, {**tools, **confirm})
    row = await store_policy(
        principal,
        tier="preference",
        scope=policy_scope("preference", principal.org_id, user_id=principal.user_id),
        agent=agent_name,
        access="inherit",
        tools=tools,
        confirm=confirm,
        org_id=principal.org_id,
        user_id=principal.user_id,
    )
    return await preferences(principal, registry, agent_name) if row else (state, None)


def check_tool_names(agent: Agent, names: Iterable[str]) -> None:
    """ValidationFailed (422) naming every tool the agent does not have."""
    known = {t.name for t in agent.tools}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValidationFailed(
            f"Agent {agent.name} has no tool named {', '.join(unknown)}",
            details=[
                {"field": f"tools.{n}", "message": f"{agent.name} has no such tool", "type": "unknown_tool"}
                for n in unknown
            ],
        )


async def store_policy(
    actor: Principal,
    *,
    tier: str,
    scope: str,
    agent: str,
    access: Access,
    tools: Mapping[str, Access],
    confirm: Mapping[str, bool],
    org_id: uuid.UUID | None = None,
    group_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> AgentPolicy | None:
    """Replace one tier's settings for one agent (all `inherit` and no confirmation removes them), audited."""
    explicit_tools = {name: value for name, value in tools.items() if value != "inherit"}
    before = await AgentPolicy.get_or_none(scope=scope, agent=agent)
    row: AgentPolicy | None
    if access == "inherit" and not explicit_tools and not confirm:
        if before is not None:
            await before.delete()
        row = None
    else:
        row, _ = await AgentPolicy.update_or_create(
            scope=scope,
            agent=agent,
            defaults={
                "tier": tier,
                "org_id": org_id,
                "group_id": group_id,
                "user_id": user_id,
                "access": access,
                "tools": explicit_tools,
                "confirm": dict(confirm),
                "updated_by_id": actor.user_id,
            },
        )
    await audit.record(
        "agent_policy.updated",
        actor=actor,
        org_id=org_id,
        target_type="agent",
        target_id=agent,
        details={
            "tier": tier,
            "group_id": str(group_id) if group_id else None,
            "user_id": str(user_id) if user_id else None,
            "before": _snapshot(before),
            "after": _snapshot(row),
        },
    )
    return row


def _snapshot(row: AgentPolicy | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"access": row.access, "tools": dict(row.tools), "confirm": dict(row.confirm)}

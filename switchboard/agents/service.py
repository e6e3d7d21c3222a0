"""The agents context's service: what its routes (and other contexts) ask of it.

- the caller's view: the agents and tools they may use, their own preferences, their permissions;
- `check_many`: "may principal P do action A on resource R?" for integrators;
- the admin tiers: platform (superadmins), organization, group and user override (org admins).
  Each view shows, per agent and tool, the tier's own value and the effective result as seen
  from that tier (the platform tier alone; the org under the platform; a group under both; a
  user with everything that applies to them), with the tier each result came from.

The rules themselves are in `access` (plain data in, decisions out); the stored settings and
THE enforcement point, `authorize_tool_call`, in `policies`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tortoise.expressions import Q

from switchboard.agents.access import (
    Access,
    Confirmation,
    Decision,
    PolicySet,
    UserPreferences,
    resolve_agent,
    resolve_confirmation,
    resolve_tool,
)
from switchboard.agents.errors import UnknownAgent, UnknownTool
from switchboard.agents.models import AgentPolicy, PolicyTier, policy_scope
from switchboard.agents.policies import check_tool_names, load_policies, policy_set, scopes_of, store_policy
from switchboard.agents.registry import Agent, Registry, Tool
from switchboard.platform.auth import Principal
from switchboard.platform.errors import BadRequest, Forbidden
from switchboard.platform.orgs import service as orgs

# --- the caller's view ---------------------------------------------------------------------------


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


async def _with_group_names(policies: PolicySet) -> PolicySet:
    """The policies, their groups named (for reasons a person reads)."""
    if not policies.groups:
        return policies
    names = await orgs.group_names([uuid.UUID(gid) for gid in policies.groups])
    return replace(policies, group_names=names)


async def permissions(principal: Principal, registry: Registry) -> list[AgentState]:
    """Every agent with the caller's decision and the reason for it, allowed or not."""
    policies = await _with_group_names(await load_policies(principal))
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


# --- may P do A on R? ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One question: may `user_id` (None: the caller) do `action` on `resource`?"""

    action: str
    resource: str
    user_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Answer:
    """The answer to one check, with the reason and the tier it came from."""

    allowed: bool
    action: str
    resource: str
    user_id: uuid.UUID
    reason: str
    source: str | None = None


async def check_many(principal: Principal, registry: Registry, checks: list[Check]) -> list[Answer]:
    """Answer each check; the settings of each person asked about are loaded once."""
    people: dict[uuid.UUID | None, Principal] = {}
    policies: dict[uuid.UUID | None, PolicySet] = {}
    answers: list[Answer] = []
    for check in checks:
        if check.user_id not in people:
            subject = await orgs.member_principal(principal, check.user_id or principal.user_id)
            people[check.user_id] = subject
            policies[check.user_id] = await load_policies(subject)
        subject, found = people[check.user_id], policies[check.user_id]
        answers.append(_answer(registry, found, subject, check))
    return answers


def _answer(registry: Registry, policies: PolicySet, subject: Principal, check: Check) -> Answer:
    def no(reason: str) -> Answer:
        return Answer(False, check.action, check.resource, subject.user_id, reason)

    if check.action == "agent.use":
        try:
            agent = registry.agent(check.resource)
        except UnknownAgent as exc:
            return no(exc.message)
        decision = agent_state(policies, agent).access
        return Answer(decision.allowed, check.action, check.resource, subject.user_id, decision.reason, decision.source)
    if check.action in ("tool.use", "tool.run_unconfirmed"):
        try:
            agent, tool = registry.tool(check.resource)
        except UnknownTool as exc:
            return no(exc.message)
        state = next(t for t in agent_state(policies, agent).tools if t.tool.name == tool.name)
        if check.action == "tool.use" or not state.access.allowed:
            decision = state.access
            return Answer(
                decision.allowed, check.action, check.resource, subject.user_id, decision.reason, decision.source
            )
        confirmation = state.confirmation
        return Answer(
            not confirmation.required,
            check.action,
            check.resource,
            subject.user_id,
            confirmation.reason,
            confirmation.source,
        )
    raise BadRequest(f"Unknown action {check.action}", code="unknown_action")


# --- the admin tiers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierTarget:
    """Whose settings an admin looks at: one tier, and the org, group or user it belongs to."""

    tier: PolicyTier
    acting: Principal  # the admin, acting in the target's org
    org_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    user: Principal | None = None  # the member, for the user tier

    @property
    def scope(self) -> str:
        """The stored scope of this tier's settings."""
        user_id = self.user.user_id if self.user else None
        return policy_scope(self.tier, self.org_id, self.group_id, user_id)

    def scopes_seen(self) -> list[str]:
        """Every scope that counts when resolving from this tier down."""
        if self.user is not None:
            return scopes_of(self.user)
        scopes = [policy_scope("platform")]
        if self.org_id is not None:
            scopes.append(policy_scope("organization", self.org_id))
        if self.group_id is not None:
            scopes.append(policy_scope("group", group_id=self.group_id))
        return scopes


@dataclass(frozen=True)
class TierAgentView:
    """One agent at one tier: the tier's own row (None: all inherit) and the effective state."""

    setting: AgentPolicy | None
    state: AgentState


def platform_tier(principal: Principal) -> TierTarget:
    """The platform tier; superadmins only."""
    if not principal.is_superadmin:
        raise Forbidden("Only a platform superadmin can change platform agent settings")
    return TierTarget("platform", principal)


async def org_tier(principal: Principal, org_id: str) -> TierTarget:
    """An org's tier; admins of that org only, another org is NotFound."""
    acting = await orgs.in_org(principal, org_id)
    orgs.require_admin(acting)
    return TierTarget("organization", acting, org_id=acting.org_id)


async def group_tier(principal: Principal, org_id: str, group_id: str) -> TierTarget:
    """A group's tier; admins of the group's org only, another org's group is NotFound."""
    acting, group = await orgs.get_group(principal, org_id, group_id)
    return TierTarget("group", acting, org_id=acting.org_id, group_id=group.id)


async def user_tier(principal: Principal, user_id: str) -> TierTarget:
    """A member's override tier in the admin's active org; anyone else is NotFound."""
    orgs.require_admin(principal)
    member = await orgs.member_principal(principal, user_id)
    return TierTarget("user", principal, org_id=principal.org_id, user=member)


async def tier_view(registry: Registry, target: TierTarget) -> list[TierAgentView]:
    """Every agent at this tier, in one query."""
    rows = await AgentPolicy.filter(scope__in=target.scopes_seen())
    policies = await _with_group_names(policy_set(rows, target.user))
    own = {row.agent: row for row in rows if row.scope == target.scope}
    return [TierAgentView(own.get(a.name), agent_state(policies, a)) for a in registry.agents()]


async def tier_agent(registry: Registry, target: TierTarget, agent_name: str) -> TierAgentView:
    """One agent at this tier; `UnknownAgent` when there is none."""
    registry.agent(agent_name)
    return next(v for v in await tier_view(registry, target) if v.state.agent.name == agent_name)


async def set_tier(
    registry: Registry,
    target: TierTarget,
    agent_name: str,
    access: Access,
    tools: Mapping[str, Access],
    confirm: Mapping[str, bool],
) -> TierAgentView:
    """Replace this tier's settings for one agent (audited) and return the new view."""
    agent = registry.agent(agent_name)
    check_tool_names(agent, {**tools, **confirm})
    await store_policy(
        target.acting,
        tier=target.tier,
        scope=target.scope,
        agent=agent_name,
        access=access,
        tools=tools,
        confirm=confirm,
        org_id=target.org_id,
        group_id=target.group_id,
        user_id=target.user.user_id if target.user else None,
    )
    return await tier_agent(registry, target, agent_name)


@dataclass(frozen=True)
class UserOverride:
    """One member's override of one agent, with who the member is."""

    row: AgentPolicy
    email: str
    name: str


async def user_overrides(
    principal: Principal, *, query: str | None = None, agent: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[UserOverride], int]:
    """The admin's org's user overrides, newest first; `query` matches the member's email or name, or the agent."""
    orgs.require_admin(principal)
    found = AgentPolicy.filter(tier="user", org_id=principal.org_id)
    if agent:
        found = found.filter(agent=agent)
    if query:
        term = query.strip()
        found = found.filter(Q(user__email__icontains=term) | Q(user__name__icontains=term) | Q(agent__icontains=term))
    total = await found.count()
    rows = await found.order_by("-updated_at", "agent").offset(offset).limit(limit).select_related("user")
    # A member who left keeps their override (it applies again if they come back), so admins still see it.
    items = [UserOverride(r, r.user.email if r.user else "", r.user.name if r.user else "") for r in rows]
    return items, total

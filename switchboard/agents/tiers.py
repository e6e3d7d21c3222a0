"""The admin tiers: platform (superadmins), organization, group and user override (org admins).

Each view shows, per agent and tool, the tier's own value and the effective result as seen
from that tier (the platform tier alone; the org under the platform; a group under both; a
user with everything that applies to them), with the tier each result came from.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from tortoise.expressions import Q

from switchboard.agents.access import Access
from switchboard.agents.models import AgentPolicy, PolicyTier, policy_scope
from switchboard.agents.policies import (
    AgentState,
    agent_state,
    check_tool_names,
    member_principal,
    policy_set,
    scopes_of,
    store_policy,
)
from switchboard.agents.registry import Registry
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Forbidden
from switchboard.platform.orgs import service as orgs


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
    member = await member_principal(principal, user_id)
    return TierTarget("user", principal, org_id=principal.org_id, user=member)


async def tier_view(registry: Registry, target: TierTarget) -> list[TierAgentView]:
    """Every agent at this tier, in one query."""
    rows = await AgentPolicy.filter(scope__in=target.scopes_seen())
    policies = policy_set(rows, target.user)
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

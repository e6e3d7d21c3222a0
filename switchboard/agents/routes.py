"""`/api/v1/agents/…`, `/api/v1/admin/agents/…`, `/api/v1/me/permissions` and `/api/v1/authz/…`."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.agents import service
from switchboard.agents.models import AgentPolicy
from switchboard.agents.registry import Registry
from switchboard.agents.schemas import (
    AgentList,
    AgentOut,
    AuthzBatchIn,
    AuthzBatchOut,
    AuthzCheckIn,
    AuthzCheckOut,
    OverridePage,
    OverrideQuery,
    PermissionsOut,
    PolicyIn,
    PreferencesIn,
    PreferencesOut,
    TierAgentList,
    TierAgentOut,
    ToolOut,
)
from switchboard.agents.shapes import agent_out, override_out, permission_out, tier_agent_out, tool_out
from switchboard.platform.auth import current_principal, require_admin, require_superadmin, require_user
from switchboard.platform.web import runtime

agents = Blueprint("agents", __name__, url_prefix="/api/v1/agents")
admin_agents = Blueprint("admin_agents", __name__, url_prefix="/api/v1/admin/agents")
authz = Blueprint("authz", __name__, url_prefix="/api/v1")


def registry() -> Registry:
    """The registry of the app serving this request, built at start-up."""
    return runtime().resource(Registry)


# --- the caller's agents ---------------------------------------------------------------------


@agents.get("")
@require_user
@validate_response(AgentList)
async def list_agents() -> AgentList:
    """The agents the caller may use, with their tools and each tool's effective state."""
    found = await service.usable(current_principal(), registry())
    return AgentList(items=[agent_out(s) for s in found], total=len(found))


@agents.get("/<agent_name>")
@require_user
@validate_response(AgentOut)
async def get_agent(agent_name: str) -> AgentOut:
    """One agent the caller may use."""
    return agent_out(await service.usable_agent(current_principal(), registry(), agent_name))


@agents.get("/<agent_name>/tools")
@require_user
@validate_response(list[ToolOut])
async def list_tools(agent_name: str) -> list[ToolOut]:
    """The agent's tools the caller was granted, each with its effective state."""
    state = await service.usable_agent(current_principal(), registry(), agent_name)
    return [tool_out(t) for t in state.tools]


def _preferences_out(state: service.AgentState, stored: AgentPolicy | None) -> PreferencesOut:
    return PreferencesOut(
        agent=state.agent.name,
        tools=stored.tools if stored else {},
        confirm=stored.confirm if stored else {},
        effective=[tool_out(t) for t in state.tools],
        updated_at=stored.updated_at if stored else None,
    )


@agents.get("/<agent_name>/settings")
@require_user
@validate_response(PreferencesOut)
async def get_settings(agent_name: str) -> PreferencesOut:
    """The caller's own settings for the agent's tools (the preference tier)."""
    state, row = await service.preferences(current_principal(), registry(), agent_name)
    return _preferences_out(state, row)


@agents.put("/<agent_name>/settings")
@require_user
@validate_request(PreferencesIn)
@validate_response(PreferencesOut)
async def put_settings(agent_name: str, data: PreferencesIn) -> PreferencesOut:
    """Replace the caller's own settings: turn tools off, or ask before every call. Never widens access."""
    state, row = await service.set_preferences(current_principal(), registry(), agent_name, data.tools, data.confirm)
    return _preferences_out(state, row)


# --- admin tiers -----------------------------------------------------------------------------------


async def _tier_list(target: service.TierTarget) -> TierAgentList:
    views = await service.tier_view(registry(), target)
    return TierAgentList(
        tier=target.tier,
        org_id=target.org_id,
        group_id=target.group_id,
        user_id=target.user.user_id if target.user else None,
        items=[tier_agent_out(target.tier, v) for v in views],
        total=len(views),
    )


async def _tier_put(target: service.TierTarget, agent_name: str, data: PolicyIn) -> TierAgentOut:
    view = await service.set_tier(registry(), target, agent_name, data.access, data.tools, data.confirm)
    return tier_agent_out(target.tier, view)


@admin_agents.get("/platform/agents")
@require_superadmin
@validate_response(TierAgentList)
async def platform_agents() -> TierAgentList:
    """Every agent's platform-wide settings (superadmins)."""
    return await _tier_list(service.platform_tier(current_principal()))


@admin_agents.put("/platform/agents/<agent_name>")
@require_superadmin
@validate_request(PolicyIn)
@validate_response(TierAgentOut)
async def put_platform_agent(agent_name: str, data: PolicyIn) -> TierAgentOut:
    """Set an agent's platform-wide settings (superadmins)."""
    return await _tier_put(service.platform_tier(current_principal()), agent_name, data)


@admin_agents.get("/orgs/<org_id>/agents")
@require_user
@validate_response(TierAgentList)
async def org_agents(org_id: str) -> TierAgentList:
    """Every agent's settings for the org (its admins)."""
    return await _tier_list(await service.org_tier(current_principal(), org_id))


@admin_agents.put("/orgs/<org_id>/agents/<agent_name>")
@require_user
@validate_request(PolicyIn)
@validate_response(TierAgentOut)
async def put_org_agent(org_id: str, agent_name: str, data: PolicyIn) -> TierAgentOut:
    """Set an agent's settings for the org (its admins)."""
    return await _tier_put(await service.org_tier(current_principal(), org_id), agent_name, data)


@admin_agents.get("/orgs/<org_id>/groups/<group_id>/agents")
@require_user
@validate_response(TierAgentList)
async def group_agents(org_id: str, group_id: str) -> TierAgentList:
    """Every agent's settings for a group (the org's admins)."""
    return await _tier_list(await service.group_tier(current_principal(), org_id, group_id))


@admin_agents.put("/orgs/<org_id>/groups/<group_id>/agents/<agent_name>")
@require_user
@validate_request(PolicyIn)
@validate_response(TierAgentOut)
async def put_group_agent(org_id: str, group_id: str, agent_name: str, data: PolicyIn) -> TierAgentOut:
    """Set an agent's settings for a group (the org's admins)."""
    return await _tier_put(await service.group_tier(current_principal(), org_id, group_id), agent_name, data)


@admin_agents.get("/users/<user_id>/agents")
@require_admin
@validate_response(TierAgentList)
async def user_agents(user_id: str) -> TierAgentList:
    """A member's overrides and what they may use, explained (admins of the active org)."""
    return await _tier_list(await service.user_tier(current_principal(), user_id))


@admin_agents.put("/users/<user_id>/agents/<agent_name>")
@require_admin
@validate_request(PolicyIn)
@validate_response(TierAgentOut)
async def put_user_agent(user_id: str, agent_name: str, data: PolicyIn) -> TierAgentOut:
    """Set a member's override for an agent (admins of the active org)."""
    return await _tier_put(await service.user_tier(current_principal(), user_id), agent_name, data)


async def _overrides(query_args: OverrideQuery) -> OverridePage:
    found, total = await service.user_overrides(
        current_principal(),
        query=query_args.q,
        agent=query_args.agent,
        limit=query_args.limit,
        offset=query_args.offset,
    )
    return OverridePage(
        items=[override_out(o) for o in found], total=total, limit=query_args.limit, offset=query_args.offset
    )


@admin_agents.get("/user-overrides/list")
@require_admin
@validate_querystring(OverrideQuery)
@validate_response(OverridePage)
async def list_overrides(query_args: OverrideQuery) -> OverridePage:
    """Every member override in the org, newest first."""
    return await _overrides(query_args)


@admin_agents.get("/user-overrides/search")
@require_admin
@validate_querystring(OverrideQuery)
@validate_response(OverridePage)
async def search_overrides(query_args: OverrideQuery) -> OverridePage:
    """Member overrides matching `q` (email, name or agent) and `agent`."""
    return await _overrides(query_args)


# --- permissions and authz ---------------------------------------------------------------------


@authz.get("/me/permissions")
@require_user
@validate_response(PermissionsOut)
async def my_permissions() -> PermissionsOut:
    """The caller's effective access to every agent and tool, explained."""
    principal = current_principal()
    states = await service.permissions(principal, registry())
    return PermissionsOut(
        user_id=principal.user_id,
        org_id=principal.org_id,
        role=principal.role,
        is_admin=principal.is_admin,
        is_superadmin=principal.is_superadmin,
        agents=[permission_out(s) for s in states],
    )


def _check_out(answer: service.Answer) -> AuthzCheckOut:
    return AuthzCheckOut.model_validate(answer, from_attributes=True)


@authz.post("/authz/check")
@require_user
@validate_request(AuthzCheckIn)
@validate_response(AuthzCheckOut)
async def check(data: AuthzCheckIn) -> AuthzCheckOut:
    """May the caller (or, for admins, a member of their org) do `action` on `resource`?"""
    asked = service.Check(data.action, data.resource, data.user_id)
    (answer,) = await service.check_many(current_principal(), registry(), [asked])
    return _check_out(answer)


@authz.post("/authz/check-batch")
@require_user
@validate_request(AuthzBatchIn)
@validate_response(AuthzBatchOut)
async def check_batch(data: AuthzBatchIn) -> AuthzBatchOut:
    """Several checks at once, answered in order."""
    asked = [service.Check(c.action, c.resource, c.user_id) for c in data.checks]
    answers = await service.check_many(current_principal(), registry(), asked)
    return AuthzBatchOut(results=[_check_out(a) for a in answers])

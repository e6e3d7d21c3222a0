"""The stored settings of every tier: the `PolicySet` of a principal, writing a tier, and THE enforcement point.

`authorize_tool_call` is what every executor of a tool call (the chat runner, workflow
steps) asks before running anything: it loads the caller's settings, decides (the rules are
in `access`), and audits every refusal. The views built on these (the caller's agents, the
admin tiers) are in `service`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from switchboard.agents.access import (
    Access,
    PolicySet,
    TierPolicy,
    UserPreferences,
    Verdict,
    decide_tool_call,
)
from switchboard.agents.models import AgentPolicy, policy_scope
from switchboard.agents.registry import Agent, Tool
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import ValidationFailed


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

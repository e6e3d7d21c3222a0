"""Who may use which agent and tool, and which tool calls need a person's confirmation.

Settings live on four tiers, from broad to specific: platform -> organization -> group(s)
-> user. Each holds `allow | deny | inherit` per agent and per tool:

- the most specific explicit value wins (a user `allow` beats a group `deny`);
- across a user's groups any `allow` wins (allow + deny -> allow; deny + inherit -> deny);
- nothing explicit anywhere -> allowed;
- tools have a fifth tier, the user's own preference, which can only narrow: a `deny`
  turns the tool off, an `allow` never re-enables what a tier above denied;
- a tool is usable only when its agent is usable.

Confirmation (`confirm: true | false` per tool) resolves over the same tiers, with the same
group rule (any group that waives confirmation wins, as any group that allows wins), and
falls back to `needs_confirmation_by_default`. A user's preference can only add a
confirmation, never waive one.

Every answer says the effective value, the tier it came from and each tier's raw value, so
an admin screen can explain it. The input is plain data (`PolicySet`), filled by whoever
stores the settings; nothing here touches a database.

`decide_tool_call` turns these into the verdict on one tool call (allow, deny or confirm, with
the arguments validated); executors call `switchboard.agents.authorize_tool_call` (in
`policies`), which loads the caller's settings, calls it and audits refusals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import pydantic

from switchboard.agents.errors import InvalidToolArguments
from switchboard.agents.registry import Agent, Registry, Tool, needs_confirmation_by_default

Access = Literal["allow", "deny", "inherit"]
Tier = Literal["platform", "organization", "group", "user"]
Source = Literal["platform", "organization", "group", "user", "preference", "agent", "default"]

TIERS: tuple[Tier, ...] = ("platform", "organization", "group", "user")
_ACCESS_VALUES = frozenset(get_args(Access))


@dataclass(frozen=True)
class TierPolicy:
    """One tier's settings: access per agent and per tool, and confirmation per tool. Absent means inherit."""

    agents: Mapping[str, Access] = field(default_factory=dict)
    tools: Mapping[str, Access] = field(default_factory=dict)
    confirm: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_access(self.agents)
        _check_access(self.tools)


@dataclass(frozen=True)
class UserPreferences:
    """A user's own tool settings; they can only narrow what the tiers above allow."""

    tools: Mapping[str, Access] = field(default_factory=dict)
    confirm: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_access(self.tools)


@dataclass(frozen=True)
class PolicySet:
    """Every setting that applies to one user in one organization."""

    platform: TierPolicy = field(default_factory=TierPolicy)
    organization: TierPolicy = field(default_factory=TierPolicy)
    groups: Mapping[str, TierPolicy] = field(default_factory=dict)  # group id -> that group's settings
    user: TierPolicy = field(default_factory=TierPolicy)
    preferences: UserPreferences = field(default_factory=UserPreferences)
    # group id -> its name, where a reason is shown to a person (a reason names a group by id without it)
    group_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TierValues:
    """The raw access values behind a decision, tier by tier."""

    platform: Access = "inherit"
    organization: Access = "inherit"
    groups: Mapping[str, Access] = field(default_factory=dict)  # each group's own value
    group: Access = "inherit"  # the groups combined
    user: Access = "inherit"
    preference: Access | None = None  # tools only

    def tier(self, tier: Tier) -> Access:
        """The value of one tier (groups combined)."""
        value: Access = getattr(self, tier)
        return value


@dataclass(frozen=True)
class Decision:
    """Whether an agent or tool is usable, which tier decided, and every tier's raw value."""

    subject: Literal["agent", "tool"]
    name: str
    allowed: bool
    source: Source
    tiers: TierValues
    reason: str
    agent: Decision | None = None  # for a tool: its agent's decision

    def as_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready data, for an admin's explainer."""
        return {
            "subject": self.subject,
            "name": self.name,
            "allowed": self.allowed,
            "source": self.source,
            "reason": self.reason,
            "tiers": _tiers_dict(self.tiers),
            "agent": self.agent.as_dict() if self.agent else None,
        }


@dataclass(frozen=True)
class ConfirmValues:
    """The raw confirmation settings behind a decision, tier by tier; None means not set."""

    default: bool
    platform: bool | None = None
    organization: bool | None = None
    groups: Mapping[str, bool] = field(default_factory=dict)
    group: bool | None = None
    user: bool | None = None
    preference: bool | None = None


@dataclass(frozen=True)
class Confirmation:
    """Whether calls of a tool wait for a person's approval, and why."""

    tool: str
    required: bool
    source: Source
    tiers: ConfirmValues
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The confirmation as JSON-ready data, for an admin's explainer."""
        t = self.tiers
        return {
            "tool": self.tool,
            "required": self.required,
            "source": self.source,
            "reason": self.reason,
            "tiers": {
                "default": t.default,
                "platform": t.platform,
                "organization": t.organization,
                "groups": dict(t.groups),
                "group": t.group,
                "user": t.user,
                "preference": t.preference,
            },
        }


def resolve_agent(policies: PolicySet, agent_name: str) -> Decision:
    """May the user use this agent?"""
    values = _access_values(policies, "agents", agent_name)
    source, value = _most_specific(values)
    allowed = value != "deny"
    reason = _reason("Agent", agent_name, allowed, source, values, policies.group_names)
    return Decision("agent", agent_name, allowed, source, values, reason)


def resolve_tool(policies: PolicySet, agent: Agent | str, tool: Tool[Any] | str) -> Decision:
    """May the user use this tool of this agent? Takes the agent's decision, the tiers and the user's preference."""
    agent_name = agent if isinstance(agent, str) else agent.name
    tool_name = tool if isinstance(tool, str) else tool.name
    agent_decision = resolve_agent(policies, agent_name)
    preference = policies.preferences.tools.get(tool_name, "inherit")
    tiered = _access_values(policies, "tools", tool_name)
    values = TierValues(
        tiered.platform, tiered.organization, tiered.groups, tiered.group, tiered.user, preference=preference
    )
    source, value = _most_specific(values)
    if not agent_decision.allowed:
        reason = f"Tool {tool_name} is unusable because its agent is denied: {agent_decision.reason}"
        return Decision("tool", tool_name, False, "agent", values, reason, agent=agent_decision)
    if value != "deny" and preference == "deny":
        reason = f"Tool {tool_name} is turned off by the user's own preference"
        return Decision("tool", tool_name, False, "preference", values, reason, agent=agent_decision)
    allowed = value != "deny"
    reason = _reason("Tool", tool_name, allowed, source, values, policies.group_names)
    return Decision("tool", tool_name, allowed, source, values, reason, agent=agent_decision)


def resolve_confirmation(policies: PolicySet, tool: Tool[Any]) -> Confirmation:
    """Must calls of this tool wait for a person's approval?"""
    groups = {gid: g.confirm[tool.name] for gid, g in policies.groups.items() if tool.name in g.confirm}
    # As with access, the permissive value wins across groups: any group that waives confirmation waives it.
    group = all(groups.values()) if groups else None
    values = ConfirmValues(
        default=needs_confirmation_by_default(tool),
        platform=policies.platform.confirm.get(tool.name),
        organization=policies.organization.confirm.get(tool.name),
        groups=groups,
        group=group,
        user=policies.user.confirm.get(tool.name),
        preference=policies.preferences.confirm.get(tool.name),
    )
    source: Source = "default"
    required = values.default
    for tier in TIERS:
        setting: bool | None = getattr(values, tier)
        if setting is not None:
            source, required = tier, setting
    if values.preference and not required:
        return Confirmation(tool.name, True, "preference", values, "The user asked to confirm every call")
    where = "by default" if source == "default" else f"by the {source} setting"
    verb = "required" if required else "not required"
    return Confirmation(tool.name, required, source, values, f"Confirmation is {verb} {where}")


def usable_agents(registry: Registry, policies: PolicySet) -> list[Agent]:
    """The agents the user may use, each with only the tools the user may use: all the planner may see."""
    usable: list[Agent] = []
    for agent in registry.agents():
        if not resolve_agent(policies, agent.name).allowed:
            continue
        tools = tuple(t for t in agent.tools if resolve_tool(policies, agent, t).allowed)
        usable.append(Agent(agent.name, agent.description, tools))
    return usable


def _access_values(policies: PolicySet, kind: Literal["agents", "tools"], name: str) -> TierValues:
    groups: dict[str, Access] = {gid: getattr(g, kind).get(name, "inherit") for gid, g in policies.groups.items()}
    return TierValues(
        platform=getattr(policies.platform, kind).get(name, "inherit"),
        organization=getattr(policies.organization, kind).get(name, "inherit"),
        groups=groups,
        group=_combine_groups(groups.values()),
        user=getattr(policies.user, kind).get(name, "inherit"),
    )


def _combine_groups(values: Any) -> Access:
    seen = set(values)
    if "allow" in seen:
        return "allow"
    return "deny" if "deny" in seen else "inherit"


def _most_specific(values: TierValues) -> tuple[Source, Access]:
    for tier in reversed(TIERS):
        value = values.tier(tier)
        if value != "inherit":
            return tier, value
    return "default", "inherit"


def _reason(
    subject: str, name: str, allowed: bool, source: Source, values: TierValues, names: Mapping[str, str]
) -> str:
    verb = "allowed" if allowed else "denied"
    if source == "default":
        return f"{subject} {name} is allowed: no tier sets it"
    if source == "group":
        deciding = sorted(names.get(gid, gid) for gid, v in values.groups.items() if v == values.group)
        return f"{subject} {name} is {verb} by group setting ({', '.join(deciding)})"
    return f"{subject} {name} is {verb} by the {source} setting"


def _tiers_dict(values: TierValues) -> dict[str, Any]:
    return {
        "platform": values.platform,
        "organization": values.organization,
        "groups": dict(values.groups),
        "group": values.group,
        "user": values.user,
        "preference": values.preference,
    }


def _check_access(settings: Mapping[str, str]) -> None:
    for name, value in settings.items():
        if value not in _ACCESS_VALUES:
            raise ValueError(f"{name}: access must be allow, deny or inherit, not {value!r}")


# --- the decision on one tool call, from plain data: the server decides, whatever the model asked for

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

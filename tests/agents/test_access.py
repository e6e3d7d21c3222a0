"""The 4-tier access resolver: the most specific explicit value wins, any group allow wins, preferences only narrow."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from switchboard.agents import Access, Agent, CallContext, PolicySet, TierPolicy, Tool, UserPreferences
from switchboard.agents.access import resolve_agent, resolve_confirmation, resolve_tool, usable_agents
from switchboard.agents.registry import Registry


class NoArgs(pydantic.BaseModel):
    pass


async def _noop(context: CallContext, args: NoArgs) -> str:
    return "done"


def tool(name: str, kind: Any = "read") -> Tool[NoArgs]:
    return Tool(name, f"{name} tool", NoArgs, _noop, kind)


MAIL = Agent("mail", "Reads and sends mail", (tool("read_inbox"), tool("send_email", "write"), tool("draft_reply")))
CRM = Agent("crm", "Customer records", (tool("find_customer"),))


def policy_for(
    kind: str,
    name: str,
    *,
    platform: str | None = None,
    organization: str | None = None,
    groups: dict[str, str] | None = None,
    user: str | None = None,
) -> PolicySet:
    """A PolicySet that sets `name` (an agent or a tool, by `kind`) at the given tiers."""

    def tier(value: str | None) -> TierPolicy:
        return TierPolicy(**{kind: {name: value}}) if value else TierPolicy()  # type: ignore[arg-type]

    return PolicySet(
        platform=tier(platform),
        organization=tier(organization),
        groups={gid: tier(value) for gid, value in (groups or {}).items()},
        user=tier(user),
    )


# (case, tiers, allowed, source)
AGENT_CASES: list[tuple[str, dict[str, Any], bool, str]] = [
    ("nothing set anywhere -> allowed", {}, True, "default"),
    (
        "every tier says inherit -> allowed",
        dict(platform="inherit", organization="inherit", groups={"g1": "inherit"}, user="inherit"),
        True,
        "default",
    ),
    ("platform deny", dict(platform="deny"), False, "platform"),
    ("platform allow", dict(platform="allow"), True, "platform"),
    ("organization allow beats platform deny", dict(platform="deny", organization="allow"), True, "organization"),
    ("organization deny beats platform allow", dict(platform="allow", organization="deny"), False, "organization"),
    ("group allow beats organization deny", dict(organization="deny", groups={"eng": "allow"}), True, "group"),
    ("group deny beats organization allow", dict(organization="allow", groups={"eng": "deny"}), False, "group"),
    ("user allow beats group deny", dict(groups={"eng": "deny"}, user="allow"), True, "user"),
    ("user deny beats group allow", dict(groups={"eng": "allow"}, user="deny"), False, "user"),
    (
        "user allow beats every tier's deny",
        dict(platform="deny", organization="deny", groups={"eng": "deny"}, user="allow"),
        True,
        "user",
    ),
    ("groups allow + deny -> allow", dict(groups={"eng": "deny", "ops": "allow"}), True, "group"),
    ("groups deny + inherit -> deny", dict(groups={"eng": "deny", "ops": "inherit"}), False, "group"),
    (
        "groups all inherit fall through to organization",
        dict(organization="deny", groups={"eng": "inherit"}),
        False,
        "organization",
    ),
    (
        "group allow + deny beats organization deny",
        dict(organization="deny", groups={"a": "allow", "b": "deny"}),
        True,
        "group",
    ),
    ("user inherit falls through to groups", dict(groups={"eng": "deny"}, user="inherit"), False, "group"),
]


@pytest.mark.parametrize(("case", "tiers", "allowed", "source"), AGENT_CASES, ids=[c[0] for c in AGENT_CASES])
def test_agent_access_over_the_tiers(case: str, tiers: dict[str, Any], allowed: bool, source: str) -> None:
    decision = resolve_agent(policy_for("agents", "mail", **tiers), "mail")
    assert (decision.allowed, decision.source) == (allowed, source), decision.reason


@pytest.mark.parametrize(("case", "tiers", "allowed", "source"), AGENT_CASES, ids=[c[0] for c in AGENT_CASES])
def test_tool_access_follows_the_same_tiers(case: str, tiers: dict[str, Any], allowed: bool, source: str) -> None:
    decision = resolve_tool(policy_for("tools", "read_inbox", **tiers), MAIL, MAIL.tool("read_inbox"))
    assert (decision.allowed, decision.source) == (allowed, source), decision.reason


def test_decision_exposes_each_tiers_raw_value() -> None:
    policies = policy_for(
        "agents", "mail", platform="allow", organization="deny", groups={"eng": "deny", "ops": "allow", "hr": "inherit"}
    )
    decision = resolve_agent(policies, "mail")
    assert decision.allowed is True and decision.source == "group"
    tiers = decision.tiers
    assert (tiers.platform, tiers.organization, tiers.group, tiers.user) == ("allow", "deny", "allow", "inherit")
    assert dict(tiers.groups) == {"eng": "deny", "ops": "allow", "hr": "inherit"}
    assert "ops" in decision.reason
    explained = decision.as_dict()
    assert explained["source"] == "group"
    assert explained["tiers"]["groups"] == {"eng": "deny", "ops": "allow", "hr": "inherit"}


def test_settings_for_other_agents_do_not_leak() -> None:
    policies = PolicySet(organization=TierPolicy(agents={"crm": "deny"}))
    assert resolve_agent(policies, "mail").allowed is True
    assert resolve_agent(policies, "crm").allowed is False


# (case, tool tiers, preference, allowed, source)
PREFERENCE_CASES: list[tuple[str, dict[str, Any], Access, bool, str]] = [
    ("preference deny turns an allowed tool off", {}, "deny", False, "preference"),
    ("preference deny beats an admin's user allow", dict(user="allow"), "deny", False, "preference"),
    (
        "preference allow never re-enables an organization deny",
        dict(organization="deny"),
        "allow",
        False,
        "organization",
    ),
    ("preference allow never re-enables a group deny", dict(groups={"eng": "deny"}), "allow", False, "group"),
    ("preference allow on an allowed tool changes nothing", dict(platform="allow"), "allow", True, "platform"),
    ("preference inherit changes nothing", {}, "inherit", True, "default"),
]


@pytest.mark.parametrize(
    ("case", "tiers", "preference", "allowed", "source"), PREFERENCE_CASES, ids=[c[0] for c in PREFERENCE_CASES]
)
def test_user_preference_only_narrows(
    case: str, tiers: dict[str, Any], preference: Access, allowed: bool, source: str
) -> None:
    base = policy_for("tools", "read_inbox", **tiers)
    policies = PolicySet(
        base.platform, base.organization, base.groups, base.user, UserPreferences(tools={"read_inbox": preference})
    )
    decision = resolve_tool(policies, MAIL, MAIL.tool("read_inbox"))
    assert (decision.allowed, decision.source) == (allowed, source), decision.reason
    assert decision.tiers.preference == preference


def test_agent_denied_makes_all_its_tools_unusable() -> None:
    policies = PolicySet(
        organization=TierPolicy(agents={"mail": "deny"}),
        user=TierPolicy(tools={"read_inbox": "allow", "send_email": "allow"}),
    )
    for mail_tool in MAIL.tools:
        decision = resolve_tool(policies, MAIL, mail_tool)
        assert decision.allowed is False
        assert decision.source == "agent"
        assert decision.agent is not None and decision.agent.source == "organization"
    # The tool's own setting is still reported, for the explainer.
    assert resolve_tool(policies, MAIL, MAIL.tool("read_inbox")).tiers.user == "allow"


def test_agent_allowed_by_user_over_group_deny_keeps_its_tools() -> None:
    policies = PolicySet(groups={"eng": TierPolicy(agents={"mail": "deny"})}, user=TierPolicy(agents={"mail": "allow"}))
    assert resolve_tool(policies, MAIL, MAIL.tool("read_inbox")).allowed is True


def test_usable_agents_show_only_what_the_user_may_use() -> None:
    registry = Registry([MAIL, CRM])
    policies = PolicySet(
        organization=TierPolicy(agents={"crm": "deny"}, tools={"send_email": "deny"}),
        preferences=UserPreferences(tools={"draft_reply": "deny"}),
    )
    usable = usable_agents(registry, policies)
    assert [a.name for a in usable] == ["mail"]
    assert [t.name for t in usable[0].tools] == ["read_inbox"]


def test_unknown_access_values_are_refused() -> None:
    with pytest.raises(ValueError, match="allow, deny or inherit"):
        TierPolicy(agents={"mail": "Allow"})  # type: ignore[dict-item]


# (case, tool, tiers as (platform, organization, groups, user), preference, required, source)
CONFIRM_CASES: list[tuple[str, str, tuple[Any, Any, dict[str, bool], Any], bool | None, bool, str]] = [
    ("read tool: no confirmation by default", "read_inbox", (None, None, {}, None), None, False, "default"),
    ("write tool: confirmation by default", "send_email", (None, None, {}, None), None, True, "default"),
    ("send_ name: confirmation by default", "send_email", (None, None, {}, None), None, True, "default"),
    ("organization waives it", "send_email", (None, False, {}, None), None, False, "organization"),
    ("user tier beats organization", "send_email", (True, False, {}, True), None, True, "user"),
    ("group requires it over the platform", "read_inbox", (False, None, {"eng": True}, None), None, True, "group"),
    (
        "groups true + false -> waived, as any allow wins",
        "send_email",
        (None, None, {"a": True, "b": False}, None),
        None,
        False,
        "group",
    ),
    ("preference can add a confirmation", "read_inbox", (None, None, {}, None), True, True, "preference"),
    ("preference cannot waive one", "send_email", (None, None, {}, None), False, True, "default"),
]


@pytest.mark.parametrize(
    ("case", "tool_name", "tiers", "preference", "required", "source"), CONFIRM_CASES, ids=[c[0] for c in CONFIRM_CASES]
)
def test_confirmation_over_the_tiers(
    case: str,
    tool_name: str,
    tiers: tuple[Any, Any, dict[str, bool], Any],
    preference: bool | None,
    required: bool,
    source: str,
) -> None:
    platform, organization, groups, user = tiers

    def tier(value: bool | None) -> TierPolicy:
        return TierPolicy(confirm={tool_name: value}) if value is not None else TierPolicy()

    policies = PolicySet(
        platform=tier(platform),
        organization=tier(organization),
        groups={gid: tier(v) for gid, v in groups.items()},
        user=tier(user),
        preferences=UserPreferences(confirm={tool_name: preference} if preference is not None else {}),
    )
    confirmation = resolve_confirmation(policies, MAIL.tool(tool_name))
    assert (confirmation.required, confirmation.source) == (required, source), confirmation.reason
    assert confirmation.tiers.organization == organization
    assert dict(confirmation.tiers.groups) == groups
    assert confirmation.as_dict()["tiers"]["default"] == (tool_name == "send_email")

"""Agents over HTTP: the caller's agents, the four admin tiers with their explainer, preferences, permissions, authz."""

from __future__ import annotations

from switchboard.platform.audit.models import AuditLog
from switchboard.platform.identity.models import User
from tests.support.accounts import join_org

ADMIN = "/api/v1/admin/agents"


async def make_superadmin(account) -> None:
    await User.filter(id=account.user_id).update(is_superadmin=True)


def by_name(items: list[dict], name: str) -> dict:
    (found,) = [item for item in items if item["name"] == name]
    return found


async def calculator_of(account) -> dict:
    return by_name((await (await account.get("/api/v1/agents")).get_json())["items"], "calculator")


async def agent_names(account) -> list[str]:
    response = await account.get("/api/v1/agents")
    assert response.status_code == 200
    return [a["name"] for a in (await response.get_json())["items"]]


async def test_agents_lists_calculator_with_each_tools_state(signup):
    ada = await signup()
    body = await (await ada.get("/api/v1/agents")).get_json()
    assert body["total"] == len(body["items"]) >= 1
    calculator = by_name(body["items"], "calculator")
    (tool,) = calculator["tools"]
    assert tool["name"] == "calculate"
    assert tool["enabled"] is True and tool["confirmation_required"] is False and tool["source"] == "default"
    assert tool["parameters"]["properties"]["expression"]
    tools = await (await ada.get("/api/v1/agents/calculator/tools")).get_json()
    assert [t["name"] for t in tools] == ["calculate"]


async def test_unknown_agent_is_404(signup):
    ada = await signup()
    for path in ("/api/v1/agents/nope", "/api/v1/agents/nope/tools", "/api/v1/agents/nope/settings"):
        response = await ada.get(path)
        assert response.status_code == 404, path
        assert (await response.get_json())["error"] == "agent_not_found"
    put = await ada.put(f"{ADMIN}/orgs/{ada.org_id}/agents/nope", json={"access": "deny"})
    assert put.status_code == 404


async def test_org_deny_hides_the_agent_and_a_user_allow_brings_it_back(signup):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    denied = await owner.put(f"{ADMIN}/orgs/{owner.org_id}/agents/calculator", json={"access": "deny"})
    assert denied.status_code == 200, await denied.get_data(as_text=True)
    view = await denied.get_json()
    assert view["tier"] == "organization" and view["access"] == "deny"
    assert view["effective"]["allowed"] is False and view["effective"]["source"] == "organization"
    assert "calculator" not in await agent_names(member)
    assert (await member.get("/api/v1/agents/calculator/tools")).status_code == 404

    allowed = await owner.put(f"{ADMIN}/users/{member.user_id}/agents/calculator", json={"access": "allow"})
    assert allowed.status_code == 200
    assert "calculator" in await agent_names(member)
    # the explainer of the user tier shows every tier's raw value and where the result came from
    listing = await (await owner.get(f"{ADMIN}/users/{member.user_id}/agents")).get_json()
    (calculator,) = [a for a in listing["items"] if a["name"] == "calculator"]
    assert calculator["access"] == "allow"
    assert calculator["effective"]["source"] == "user"
    assert calculator["effective"]["tiers"]["organization"] == "deny"
    assert calculator["effective"]["tiers"]["user"] == "allow"
    assert "user setting" in calculator["effective"]["reason"]
    assert await AuditLog.filter(action="agent_policy.updated", org_id=owner.org_id).count() == 2


async def test_group_tier_any_allow_wins_and_tool_settings_apply(signup):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    base = f"/api/v1/orgs/{owner.org_id}/groups"
    group = await (await owner.post(base, json={"name": "analysts"})).get_json()
    await owner.put(f"{base}/{group['id']}/members/{member.user_id}", json={"role": "member"})
    await owner.put(f"{ADMIN}/orgs/{owner.org_id}/agents/calculator", json={"tools": {"calculate": "deny"}})
    assert (await calculator_of(member))["tools"] == []

    path = f"{ADMIN}/orgs/{owner.org_id}/groups/{group['id']}/agents/calculator"
    put = await owner.put(path, json={"tools": {"calculate": "allow"}, "confirm": {"calculate": True}})
    assert put.status_code == 200
    (tool,) = (await put.get_json())["tools"]
    assert tool["access"] == "allow" and tool["confirm"] is True
    assert tool["effective"]["source"] == "group" and tool["effective"]["tiers"]["organization"] == "deny"
    assert tool["confirmation"]["required"] is True and tool["confirmation"]["source"] == "group"
    agent = await calculator_of(member)
    assert agent["tools"][0]["name"] == "calculate" and agent["tools"][0]["confirmation_required"] is True
    listing = await (await owner.get(f"{ADMIN}/orgs/{owner.org_id}/groups/{group['id']}/agents")).get_json()
    assert listing["tier"] == "group" and listing["group_id"] == group["id"]


async def test_admin_rules_members_403_other_orgs_404_platform_superadmin_only(signup):
    owner = await signup()
    member = await signup()
    stranger = await signup()
    await join_org(owner, member)
    base = f"{ADMIN}/orgs/{owner.org_id}"
    body = {"access": "deny"}
    assert (await member.get(f"{base}/agents")).status_code == 403
    assert (await member.put(f"{base}/agents/calculator", json=body)).status_code == 403
    assert (await member.get(f"{ADMIN}/users/{owner.user_id}/agents")).status_code == 403
    assert (await member.get(f"{ADMIN}/user-overrides/list")).status_code == 403
    assert (await stranger.get(f"{base}/agents")).status_code == 404
    assert (await stranger.put(f"{base}/agents/calculator", json=body)).status_code == 404
    assert (await stranger.get(f"{ADMIN}/users/{member.user_id}/agents")).status_code == 404
    assert (await stranger.put(f"{ADMIN}/users/{member.user_id}/agents/calculator", json=body)).status_code == 404
    stranger_group = await (
        await stranger.post(f"/api/v1/orgs/{stranger.org_id}/groups", json={"name": "theirs"})
    ).get_json()
    assert (await owner.get(f"{base}/groups/{stranger_group['id']}/agents")).status_code == 404
    # an org admin is not a platform admin
    assert (await owner.get(f"{ADMIN}/platform/agents")).status_code == 403
    assert (await owner.put(f"{ADMIN}/platform/agents/calculator", json=body)).status_code == 403
    # a tool the agent does not have is a 422 naming it
    bad = await owner.put(f"{base}/agents/calculator", json={"tools": {"rm_rf": "allow"}})
    assert bad.status_code == 422 and (await bad.get_json())["details"][0]["field"] == "tools.rm_rf"


async def test_platform_tier_applies_everywhere_and_org_can_override(signup):
    root = await signup()
    await make_superadmin(root)
    ada = await signup()
    put = await root.put(f"{ADMIN}/platform/agents/calculator", json={"access": "deny"})
    assert put.status_code == 200
    assert (await put.get_json())["effective"]["source"] == "platform"
    assert "calculator" not in await agent_names(ada)
    listing = await (await root.get(f"{ADMIN}/platform/agents")).get_json()
    assert listing["tier"] == "platform" and by_name(listing["items"], "calculator")["access"] == "deny"
    # ada owns her personal org: the org tier is more specific than the platform's
    await ada.put(f"{ADMIN}/orgs/{ada.org_id}/agents/calculator", json={"access": "allow"})
    assert "calculator" in await agent_names(ada)
    # all inherit removes the setting
    cleared = await root.put(f"{ADMIN}/platform/agents/calculator", json={})
    assert (await cleared.get_json())["access"] == "inherit"


async def test_user_overrides_list_and_search(signup):
    owner = await signup()
    member = await signup(email="grace.hopper@example.com", name="Grace")
    await join_org(owner, member)
    await owner.put(f"{ADMIN}/users/{member.user_id}/agents/calculator", json={"access": "deny"})
    listed = await (await owner.get(f"{ADMIN}/user-overrides/list")).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["email"] == "grace.hopper@example.com" and item["agent"] == "calculator" and item["access"] == "deny"
    found = await (await owner.get(f"{ADMIN}/user-overrides/search?q=hopper")).get_json()
    assert found["total"] == 1
    none = await (await owner.get(f"{ADMIN}/user-overrides/search?q=turing")).get_json()
    assert none["total"] == 0 and none["items"] == []


async def test_preferences_only_narrow(signup):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    put = await member.put("/api/v1/agents/calculator/settings", json={"tools": {"calculate": "deny"}})
    assert put.status_code == 200
    body = await put.get_json()
    assert body["tools"] == {"calculate": "deny"}
    (tool,) = body["effective"]
    assert tool["enabled"] is False and tool["source"] == "preference"
    # still listed (so it can be turned back on), but off
    agent = await calculator_of(member)
    assert agent["tools"][0]["enabled"] is False
    # a preference allow cannot re-enable what an admin denied
    await owner.put(f"{ADMIN}/users/{member.user_id}/agents/calculator", json={"tools": {"calculate": "deny"}})
    await member.put("/api/v1/agents/calculator/settings", json={"tools": {"calculate": "allow"}})
    agent = await calculator_of(member)
    assert agent["tools"] == []
    # and a preference cannot waive confirmation an admin requires, but can add one
    await owner.put(f"{ADMIN}/users/{member.user_id}/agents/calculator", json={})
    got = await member.put("/api/v1/agents/calculator/settings", json={"confirm": {"calculate": True}})
    assert (await got.get_json())["effective"][0]["confirmation_required"] is True


async def test_me_permissions_explains_denied_agents(signup):
    owner = await signup()
    await owner.put(f"{ADMIN}/orgs/{owner.org_id}/agents/calculator", json={"access": "deny"})
    body = await (await owner.get("/api/v1/me/permissions")).get_json()
    assert body["org_id"] == owner.org_id and body["is_admin"] is True
    calculator = by_name(body["agents"], "calculator")
    assert calculator["allowed"] is False and calculator["decision"]["source"] == "organization"
    assert calculator["tools"][0]["allowed"] is False and calculator["tools"][0]["decision"]["source"] == "agent"


async def test_authz_check_and_batch(signup):
    owner = await signup()
    member = await signup()
    stranger = await signup()
    await join_org(owner, member)
    await owner.put(f"{ADMIN}/users/{member.user_id}/agents/calculator", json={"confirm": {"calculate": True}})
    single = await member.post("/api/v1/authz/check", json={"action": "tool.use", "resource": "calculate"})
    assert single.status_code == 200
    assert (await single.get_json())["allowed"] is True
    batch = await owner.post(
        "/api/v1/authz/check-batch",
        json={
            "checks": [
                {"action": "agent.use", "resource": "calculator", "user_id": member.user_id},
                {"action": "tool.run_unconfirmed", "resource": "calculate", "user_id": member.user_id},
                {"action": "tool.run_unconfirmed", "resource": "calculate"},
                {"action": "agent.use", "resource": "no_such_agent"},
            ]
        },
    )
    results = (await batch.get_json())["results"]
    assert [r["allowed"] for r in results] == [True, False, True, False]
    assert results[1]["source"] == "user" and results[0]["user_id"] == member.user_id
    # members may ask only about themselves; nobody about another org's people
    about_owner = {"action": "agent.use", "resource": "calculator", "user_id": owner.user_id}
    assert (await member.post("/api/v1/authz/check", json=about_owner)).status_code == 403
    about_member = {"action": "agent.use", "resource": "calculator", "user_id": member.user_id}
    # the stranger is the admin of their own org, where the member is nobody
    assert (await stranger.post("/api/v1/authz/check", json=about_member)).status_code == 404

"""Organizations: members, roles, invitations, groups, switching; members cannot do admin things."""

from __future__ import annotations

from tests.support.accounts import join_org


async def test_create_list_and_switch_orgs(signup):
    ada = await signup()
    created = await ada.post("/api/v1/orgs", json={"name": "Analytical Engines"})
    assert created.status_code == 201
    org = await created.get_json()
    assert org["role"] == "owner" and org["personal"] is False
    names = {o["name"] for o in await (await ada.get("/api/v1/orgs")).get_json()}
    assert names == {"Ada's workspace", "Analytical Engines"}
    assert (await ada.post(f"/api/v1/orgs/{org['id']}/switch")).status_code == 200
    me = await (await ada.get("/api/v1/auth/me")).get_json()
    assert me["org"]["id"] == org["id"]


async def test_invitation_flow_and_its_failures(signup):
    owner = await signup()
    bob = await signup()
    eve = await signup()
    invited = await owner.post(f"/api/v1/orgs/{owner.org_id}/invitations", json={"email": bob.email, "role": "admin"})
    token = (await invited.get_json())["token"]
    pending = await (await owner.get(f"/api/v1/orgs/{owner.org_id}/invitations")).get_json()
    assert [i["email"] for i in pending] == [bob.email] and "token" not in pending[0]
    # someone else holding the token cannot use it
    assert (await eve.post(f"/api/v1/invitations/{token}/accept")).status_code == 404
    accepted = await bob.post(f"/api/v1/invitations/{token}/accept")
    assert accepted.status_code == 200 and (await accepted.get_json())["role"] == "admin"
    again = await bob.post(f"/api/v1/invitations/{token}/accept")
    assert again.status_code == 409
    members = await (await owner.get(f"/api/v1/orgs/{owner.org_id}/members")).get_json()
    assert {m["email"]: m["role"] for m in members} == {owner.email: "owner", bob.email: "admin"}
    # a revoked invitation is gone
    second = await owner.post(f"/api/v1/orgs/{owner.org_id}/invitations", json={"email": eve.email})
    body = await second.get_json()
    assert (await owner.delete(f"/api/v1/orgs/{owner.org_id}/invitations/{body['id']}")).status_code == 204
    assert (await eve.post(f"/api/v1/invitations/{body['token']}/accept")).status_code == 410


async def test_member_cannot_reach_admin_routes(signup):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    base = f"/api/v1/orgs/{owner.org_id}"
    attempts = [
        await member.post(f"{base}/invitations", json={"email": "x@example.com"}),
        await member.get(f"{base}/invitations"),
        await member.post(f"{base}/groups", json={"name": "sneaky"}),
        await member.get(f"{base}/groups"),
        await member.patch(f"{base}/members/{owner.user_id}", json={"role": "member"}),
        await member.delete(f"{base}/members/{owner.user_id}"),
        await member.get("/api/v1/audit/logs"),
        await member.get("/api/v1/audit/stats"),
    ]
    for response in attempts:
        assert response.status_code == 403, await response.get_data(as_text=True)
        assert (await response.get_json())["error"] == "forbidden"
    # but members see their org's member list and their own audit trail
    assert (await member.get(f"{base}/members")).status_code == 200
    assert (await member.get("/api/v1/audit/my-logs")).status_code == 200


async def test_admin_cannot_reach_superadmin_routes(signup):
    owner = await signup()
    response = await owner.post("/api/v1/system/checks")
    assert response.status_code == 403


async def test_roles_keep_one_owner_and_only_owners_grant_ownership(signup):
    owner = await signup()
    admin = await signup()
    await join_org(owner, admin, role="admin")
    base = f"/api/v1/orgs/{owner.org_id}"
    last = await owner.patch(f"{base}/members/{owner.user_id}", json={"role": "admin"})
    assert last.status_code == 409 and (await last.get_json())["error"] == "last_owner"
    grant = await admin.patch(f"{base}/members/{admin.user_id}", json={"role": "owner"})
    assert grant.status_code == 403
    promoted = await owner.patch(f"{base}/members/{admin.user_id}", json={"role": "owner"})
    assert promoted.status_code == 200
    stepped_down = await owner.patch(f"{base}/members/{owner.user_id}", json={"role": "member"})
    assert stepped_down.status_code == 200
    bad = await admin.patch(f"{base}/members/{owner.user_id}", json={"role": "emperor"})
    assert bad.status_code == 422


async def test_removed_member_loses_access(signup):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    assert (await owner.delete(f"/api/v1/orgs/{owner.org_id}/members/{member.user_id}")).status_code == 204
    assert (await member.get(f"/api/v1/orgs/{owner.org_id}/members")).status_code == 404
    me = await (await member.get("/api/v1/auth/me")).get_json()
    assert me["org"]["id"] != owner.org_id


async def test_groups_and_group_members(signup):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    base = f"/api/v1/orgs/{owner.org_id}/groups"
    group = await (await owner.post(base, json={"name": "Researchers", "description": "deep work"})).get_json()
    duplicate = await owner.post(base, json={"name": "Researchers"})
    assert duplicate.status_code == 409 and (await duplicate.get_json())["error"] == "group_name_taken"
    put = await owner.put(f"{base}/{group['id']}/members/{member.user_id}", json={"role": "admin"})
    assert put.status_code == 200 and (await put.get_json())["role"] == "admin"
    again = await owner.put(f"{base}/{group['id']}/members/{member.user_id}", json={"role": "member"})
    assert (await again.get_json())["role"] == "member"
    listed = await (await owner.get(f"{base}/{group['id']}/members")).get_json()
    assert [m["email"] for m in listed] == [member.email], "one membership per group"
    me = await (await member.get("/api/v1/auth/me")).get_json()
    assert [g["name"] for g in me["groups"]] == ["Researchers"]
    outsider = await signup()
    not_member = await owner.put(f"{base}/{group['id']}/members/{outsider.user_id}", json={"role": "member"})
    assert not_member.status_code == 404
    renamed = await owner.patch(f"{base}/{group['id']}", json={"name": "Scholars"})
    assert (await renamed.get_json())["name"] == "Scholars"
    assert (await owner.delete(f"{base}/{group['id']}/members/{member.user_id}")).status_code == 204
    assert (await owner.delete(f"{base}/{group['id']}")).status_code == 204
    assert (await owner.get(f"{base}/{group['id']}")).status_code == 404


async def test_audit_records_changes_with_correlation_ids(signup):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    cid = "change-role-42"
    await owner.patch(
        f"/api/v1/orgs/{owner.org_id}/members/{member.user_id}",
        json={"role": "admin"},
        headers={"X-Correlation-ID": cid},
    )
    entries = await (await owner.get(f"/api/v1/audit/logs/correlation/{cid}")).get_json()
    assert [e["action"] for e in entries] == ["member.role_changed"]
    assert entries[0]["details"] == {"from": "member", "to": "admin"}
    assert entries[0]["actor_email"] == owner.email and entries[0]["ip"]
    one = await (await owner.get(f"/api/v1/audit/logs/{entries[0]['id']}")).get_json()
    assert one["target_id"] == member.user_id
    stats = await (await owner.get("/api/v1/audit/stats")).get_json()
    assert stats["by_action"]["invitation.created"]["success"] == 1
    page = await (await owner.get("/api/v1/audit/logs", query_string={"limit": 2})).get_json()
    assert len(page["items"]) == 2 and page["total"] > 2 and page["limit"] == 2
    csv = await (await member.get("/api/v1/audit/my-logs/export")).get_data(as_text=True)
    assert csv.splitlines()[0].startswith("created_at,action") and "invitation.accepted" in csv

"""Another org's data is invisible on every route: 404 or an empty answer, never its data.

The walk reads the app's URL map, so a new route is covered the day it is added; a route with a
path parameter this file cannot fill fails the test until it is taught the parameter.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.approvals import Approval
from switchboard.integrations import Connection
from switchboard.platform.audit.models import AuditLog
from switchboard.platform.identity.models import ApiKey
from switchboard.platform.orgs.models import Invitation
from tests.support.accounts import join_org, upload
from tests.support.bodies import body_for

# Routes whose answer is platform-wide, not org data: a non-superadmin gets 403 there.
SUPERADMIN_PREFIXES = ("/api/v1/system/", "/api/v1/admin/agents/platform/")
SKIP_METHODS = {"HEAD", "OPTIONS"}
OFFLINE_503 = {"/api/v1/workflows/generate", "/api/v1/providers/execute", "/api/v1/providers/execute/stream"}


async def _org_with_data(signup, label: str) -> dict[str, Any]:
    owner = await signup(email=f"owner-{label}@{label}.example", name=f"Owner {label}")
    member = await signup(email=f"member-{label}@{label}.example", name=f"Member {label}")
    await join_org(owner, member)
    base = f"/api/v1/orgs/{owner.org_id}"
    group = await (await owner.post(f"{base}/groups", json={"name": f"group-{label}-secret"})).get_json()
    await owner.put(f"{base}/groups/{group['id']}/members/{member.user_id}", json={"role": "member"})
    invitation = await (await owner.post(f"{base}/invitations", json={"email": f"invitee@{label}.example"})).get_json()
    key = await (await owner.post("/api/v1/auth/api-keys", json={"name": f"key-{label}"})).get_json()
    await owner.get("/api/v1/auth/me", headers={"X-Correlation-ID": f"cid-{label}"})
    await owner.patch(
        f"{base}/members/{member.user_id}", json={"role": "admin"}, headers={"X-Correlation-ID": f"cid-{label}"}
    )
    personal = await (
        await owner.post("/api/v1/documents/collections", json={"name": f"coll-{label}-secret"})
    ).get_json()
    org_collection = await (
        await owner.post("/api/v1/documents/admin/collections", json={"name": f"orgcoll-{label}-secret"})
    ).get_json()
    uploaded = await upload(owner, f"doc-{label}-secret.txt", f"The {label} launch code is 0000.".encode())
    assert uploaded.status_code == 202, await uploaded.get_data(as_text=True)
    document = await uploaded.get_json()
    # agent settings at every org tier, so the walk would show them if they leaked
    for path, access in (
        (f"{_agents(owner.org_id)}/agents/calculator", "deny"),
        (f"{_agents(owner.org_id)}/groups/{group['id']}/agents/calculator", "allow"),
        (f"/api/v1/admin/agents/users/{member.user_id}/agents/calculator", "allow"),
    ):
        assert (await owner.put(path, json={"access": access})).status_code == 200
    entry = await AuditLog.filter(org_id=owner.org_id).first()
    assert entry is not None
    asked = await owner.post("/api/v1/chat/stream", json={"message": f"question-{label}-secret", "mode": "ask"})
    assert asked.status_code == 202, await asked.get_data(as_text=True)
    task = await asked.get_json()
    remembered = await owner.post("/api/v1/memories", json={"content": f"memory-{label}-secret"})
    memory = await remembered.get_json()
    workflow, run = await _workflow_with_a_run(owner, member, label)
    connection, mapping = await _integrations_of(owner, label)
    scheduled = await owner.post(
        f"/api/v1/workflows/{workflow['id']}/schedules", json={"cron": "@daily", "input": f"schedule-{label}-secret"}
    )
    assert scheduled.status_code == 201, await scheduled.get_data(as_text=True)
    schedule = await scheduled.get_json()
    # a workflow step's approval: the inbox routes answer both kinds, /workflows/approvals/… only this one
    approval = await Approval.create(
        org_id=owner.org_id,
        kind="workflow_step",
        subject_id=run["run_id"],
        key=f"call-{label}",
        title=f"approval-{label}-secret",
        context={"agent": "http", "tool": "http_post", "arguments": {"secret": f"args-{label}-secret"}},
        requested_by=owner.user_id,
        approvers={"users": [owner.user_id], "groups": [], "roles": ["owner", "admin", "member"]},
        allow_self_approval=True,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return {
        "owner": owner,
        "member": member,
        "params": {
            "org_id": owner.org_id,
            "user_id": member.user_id,
            "group_id": group["id"],
            "invitation_id": invitation["id"],
            "token": invitation["token"],
            "key_id": key["id"],
            "entry_id": str(entry.id),
            "cid": f"cid-{label}",
            "check_id": "00000000-0000-0000-0000-00000000c0de",
            # agents are platform-wide; a name no agent has keeps the walk's 200-means-empty rule meaningful
            "agent_name": f"agent_{label}_unknown",
            "collection_id": personal["id"],
            "document_id": document["id"],
            "task_id": task["task_id"],
            "job_id": f"chat-{task['task_id']}",
            "conversation_id": task["conversation_id"],
            "memory_id": memory["id"],
            "approval_id": str(approval.id),
            "workflow_id": workflow["id"],
            "node_id": "calc",
            "version": "1",
            "run_id": run["run_id"],
            "schedule_id": schedule["id"],
            # templates are platform-wide: a name none has keeps the walk's 200-means-empty rule meaningful
            "name": f"template_{label}_unknown",
            # the catalog is platform-wide: a connector none has; a real one lists only the caller's own
            "type": f"connector_{label}_unknown",
            "service": "slack",
            "provider_name": "slack",
            "service_name": f"service_{label}_unknown",
            "mapping_id": mapping["id"],
        },
        "markers": [
            owner.email,
            member.email,
            owner.org_id,
            owner.user_id,
            member.user_id,
            task["task_id"],
            task["conversation_id"],
            memory["id"],
            str(approval.id),
            f"question-{label}-secret",
            f"memory-{label}-secret",
            f"args-{label}-secret",
            f"approval-{label}-secret",
            org_collection["id"],
            group["id"],
            f"group-{label}-secret",
            f"invitee@{label}.example",
            f"key-{label}",
            key["prefix"],
            workflow["id"],
            run["run_id"],
            f"workflow-{label}-secret",
            f"input-{label}-secret",
            schedule["id"],
            f"schedule-{label}-secret",
            str(connection.id),
            f"account-{label}-secret",
            mapping["id"],
            f"external-{label}-secret",
            f"channel-{label}-secret",
        ],
    }


async def _workflow_with_a_run(owner, member, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A workflow of two versions (an approval by the member) and a run of it (left pending: no worker here)."""
    definition = {
        "name": f"workflow-{label}-secret",
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {
                "id": "calc",
                "type": "tool",
                "config": {"agent": "calculator", "tool": "calculate", "arguments": {"expression": "{{ input.a }}"}},
            },
            {
                "id": "review",
                "type": "approval",
                "config": {"approvers": {"users": [member.user_id]}, "title": f"review-{label}-secret"},
            },
        ],
        "edges": [{"from": "start", "to": "calc"}, {"from": "calc", "to": "review"}],
    }
    created = await owner.post("/api/v1/workflows", json=definition)
    assert created.status_code == 201, await created.get_data(as_text=True)
    workflow = await created.get_json()
    saved = await owner.put(f"/api/v1/workflows/{workflow['id']}", json={**definition, "description": "second"})
    assert saved.status_code == 200, await saved.get_data(as_text=True)
    started = await owner.post(
        f"/api/v1/workflows/{workflow['id']}/run", json={"input": {"a": 6, "note": f"input-{label}-secret"}}
    )
    assert started.status_code == 202, await started.get_data(as_text=True)
    return workflow, await started.get_json()


async def _integrations_of(owner, label: str) -> tuple[Connection, dict[str, Any]]:
    """A connection (alpha: Slack, beta: GitHub, so beta's own never answers for alpha's), a mapping, settings."""
    connection = await Connection.create(
        org_id=owner.org_id,
        user_id=None,
        connector="slack" if label == "alpha" else "github",
        auth="token",
        account=f"account-{label}-secret",
        settings={"base_url": "https://slack.example/api"},
        secret=f"encrypted-{label}",
    )
    mapped = await owner.post(
        "/api/v1/integrations/user-mappings",
        json={"service": "slack", "external_id": f"external-{label}-secret", "external_name": label},
    )
    assert mapped.status_code == 201, await mapped.get_data(as_text=True)
    saved = await owner.put(
        "/api/v1/integrations/chat-settings/slack",
        json={"enabled": True, "channels": {f"channel-{label}-secret": "knowledge"}},
    )
    assert saved.status_code == 200, await saved.get_data(as_text=True)
    return connection, await mapped.get_json()


def _agents(org_id: str) -> str:
    return f"/api/v1/admin/agents/orgs/{org_id}"


async def test_every_route_hides_another_orgs_data(app, signup):
    alpha = await _org_with_data(signup, "alpha")
    beta = await _org_with_data(signup, "beta")
    # beta's owner walks every route with an API key (so no route can sign the walker out)
    walker_key = await (await beta["owner"].post("/api/v1/auth/api-keys", json={"name": "walker"})).get_json()
    client = app.test_client()
    headers = {"X-API-Key": walker_key["key"]}

    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("test_routes"):
            continue
        if rule.websocket or getattr(app.view_functions[rule.endpoint], "__switchboard_long_lived__", False):
            # the org's live stream never ends by itself: tests/platform/test_live.py walks it with two orgs
            continue
        names = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule.rule)
        missing = [n for n in names if n not in alpha["params"]]
        assert not missing, f"{rule.rule}: teach this test the path parameter(s) {missing}"
        path = rule.rule
        for name in names:
            path = re.sub(rf"<(?:[^:>]+:)?{name}>", str(alpha["params"][name]), path)
        for method in sorted(rule.methods - SKIP_METHODS):
            body = body_for(app, rule.endpoint)
            response = await client.open(path, method=method, headers=headers, json=body)
            text = await response.get_data(as_text=True)
            where = f"{method} {rule.rule} -> {response.status_code}: {text[:300]}"
            leaked = [m for m in alpha["markers"] if m in text]
            assert not leaked, f"leaked {leaked} on {where}"
            # no language model here: generation answers 503 model_required, as documented
            offline = rule.rule in OFFLINE_503 and response.status_code == 503
            assert response.status_code < 500 or offline, where
            if names:
                allowed = {403, 404} if rule.rule.startswith(SUPERADMIN_PREFIXES) else {404}
                if response.status_code == 200:
                    payload = await response.get_json()
                    assert payload == [] or (isinstance(payload, dict) and payload.get("items") == []), where
                else:
                    assert response.status_code in allowed, where
            checked += 1
    assert checked >= 40

    # and alpha's things are untouched by the walk
    assert await ApiKey.filter(id=alpha["params"]["key_id"], revoked_at=None, disabled_at=None).exists()
    assert await Invitation.filter(id=alpha["params"]["invitation_id"], revoked_at=None).exists()

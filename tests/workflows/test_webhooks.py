"""Webhook triggers: signed deliveries (Standard Webhooks) start one run each, without a session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.platform.audit.models import AuditLog
from switchboard.workflows.trigger_models import WebhookDelivery, WebhookTrigger
from tests.workflows.conftest import WORKFLOWS, wait_run


def hook_definition() -> dict[str, Any]:
    return {
        "name": "Inbound orders",
        "nodes": [
            {"id": "incoming", "type": "trigger", "config": {"kind": "webhook"}},
            {"id": "echo", "type": "transform", "config": {"value": {"order": "{{ input.order }}"}}},
        ],
        "edges": [{"from": "incoming", "to": "echo"}],
    }


def signed(secret: str, body: bytes, *, message_id: str | None = None, at: float | None = None) -> dict[str, str]:
    """Headers a Standard Webhooks sender writes (computed here independently of the server's code)."""
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    timestamp = str(int(at if at is not None else time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


async def webhook_workflow(admin) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """An active webhook workflow: (workflow id, delivery path, secret)."""
    created = await admin.post(WORKFLOWS, json=hook_definition())
    workflow_id = (await created.get_json())["id"]
    assert (await admin.post(f"{WORKFLOWS}/{workflow_id}/activate")).status_code == 200
    hook = await admin.get(f"{WORKFLOWS}/{workflow_id}/webhook")
    assert hook.status_code == 200, await hook.get_data(as_text=True)
    info = await hook.get_json()
    assert info["url"].endswith(f"/api/v1/hooks/workflows/{info['token']}") and info["has_secret"] is False
    rotated = await admin.post(f"{WORKFLOWS}/{workflow_id}/webhook/secret")
    assert rotated.status_code == 200, await rotated.get_data(as_text=True)
    secret = (await rotated.get_json())["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert secret not in await (await admin.get(f"{WORKFLOWS}/{workflow_id}/webhook")).get_data(as_text=True)
    return workflow_id, f"/api/v1/hooks/workflows/{info['token']}", secret


async def run_count(admin, workflow_id: str) -> int:  # type: ignore[no-untyped-def]
    listed = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/executions")).get_json()
    return int(listed["total"])


async def test_a_signed_delivery_starts_one_run_and_a_repeat_starts_none(app, admin, worker):
    workflow_id, path, secret = await webhook_workflow(admin)
    stranger = app.test_client()  # no session, no key: the signature is the credential
    body = json.dumps({"order": "A-17"}).encode()
    headers = signed(secret, body)
    first = await stranger.post(path, data=body, headers=headers)
    assert first.status_code == 202, await first.get_data(as_text=True)
    accepted = await first.get_json()
    assert accepted["status"] == "accepted"
    detail = await wait_run(admin, workflow_id, accepted["run_id"])
    assert detail["status"] == "completed" and detail["trigger"] == "webhook"
    assert detail["input"] == {"order": "A-17"}

    again = await stranger.post(path, data=body, headers=headers)
    assert again.status_code == 200
    assert await again.get_json() == {"run_id": accepted["run_id"], "status": "duplicate"}
    assert await run_count(admin, workflow_id) == 1


async def test_stale_wrong_and_oversized_deliveries_start_nothing(app, admin, worker):
    workflow_id, path, secret = await webhook_workflow(admin)
    stranger = app.test_client()
    body = b'{"order": "B-2"}'
    stale = await stranger.post(path, data=body, headers=signed(secret, body, at=time.time() - 400))
    future = await stranger.post(path, data=body, headers=signed(secret, body, at=time.time() + 400))
    wrong = await stranger.post(path, data=body, headers=signed("whsec_" + base64.b64encode(b"x" * 32).decode(), body))
    tampered_headers = signed(secret, body)
    tampered = await stranger.post(path, data=b'{"order": "B-3"}', headers=tampered_headers)
    unsigned = await stranger.post(path, data=body, headers={"Content-Type": "application/json"})
    for refused in (stale, future, wrong, tampered, unsigned):
        assert refused.status_code == 401, await refused.get_data(as_text=True)
        assert (await refused.get_json())["error"] == "invalid_signature"
    big = b'{"order": "' + b"x" * 300_000 + b'"}'
    oversized = await stranger.post(path, data=big, headers=signed(secret, big))
    assert oversized.status_code == 413
    assert await run_count(admin, workflow_id) == 0
    assert await WebhookDelivery.all().count() == 0
    rejections = await AuditLog.filter(action="workflow.webhook_rejected", outcome="failure").count()
    assert rejections == 5
    assert (
        await stranger.post("/api/v1/hooks/workflows/no-such-token", data=body, headers=signed(secret, body))
    ).status_code == 404


async def test_the_old_secret_works_during_a_rotation_and_not_after(app, admin, worker):
    workflow_id, path, old = await webhook_workflow(admin)
    rotated = await (await admin.post(f"{WORKFLOWS}/{workflow_id}/webhook/secret")).get_json()
    new = rotated["secret"]
    assert new != old and rotated["previous_valid_until"] is not None
    assert "openssl" in rotated["curl"] and new in rotated["curl"]
    stranger = app.test_client()
    body = b'{"order": "C-1"}'
    assert (await stranger.post(path, data=body, headers=signed(old, body))).status_code == 202
    assert (await stranger.post(path, data=body, headers=signed(new, body))).status_code == 202
    # the overlap ends (as it would after WEBHOOK_SECRET_OVERLAP_HOURS)
    await WebhookTrigger.filter(workflow_id=workflow_id).update(
        previous_valid_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert (await stranger.post(path, data=body, headers=signed(old, body))).status_code == 401
    assert (await stranger.post(path, data=body, headers=signed(new, body))).status_code == 202
    assert await run_count(admin, workflow_id) == 3


async def test_webhook_routes_refuse_other_triggers_inactive_workflows_and_other_orgs(app, admin, outsider, worker):
    manual = await admin.post(WORKFLOWS, json={**hook_definition(), "nodes": [
        {"id": "incoming", "type": "trigger", "config": {"kind": "manual"}},
        {"id": "echo", "type": "transform", "config": {"value": 1}},
    ]})  # fmt: skip
    manual_id = (await manual.get_json())["id"]
    assert (await admin.get(f"{WORKFLOWS}/{manual_id}/webhook")).status_code == 409
    workflow_id, path, secret = await webhook_workflow(admin)
    assert (await outsider.get(f"{WORKFLOWS}/{workflow_id}/webhook")).status_code == 404
    assert (await outsider.post(f"{WORKFLOWS}/{workflow_id}/webhook/secret")).status_code == 404
    assert (await admin.post(f"{WORKFLOWS}/{workflow_id}/pause")).status_code == 200
    body = b"{}"
    paused = await app.test_client().post(path, data=body, headers=signed(secret, body))
    assert paused.status_code == 409 and await run_count(admin, workflow_id) == 0

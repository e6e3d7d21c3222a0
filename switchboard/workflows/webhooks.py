"""Inbound webhook triggers in the Standard Webhooks format: a URL per workflow, signed deliveries, ids seen once.

A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
(space-separated `v1,<base64>` entries, each an HMAC-SHA256 over `"{id}.{timestamp}.{raw body}"`
under the secret's base64-decoded bytes). It is accepted when the timestamp is within five minutes
of the server's clock and one entry matches the current secret, or the previous one while a
rotation's overlap lasts. A refused delivery leaves nothing behind but an audit entry; an accepted
one writes its delivery row (unique per webhook and `webhook-id`) and its run in one transaction,
so a repeated id gets the first delivery's run back and starts nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from switchboard.config import Settings
from switchboard.platform.audit.service import record
from switchboard.platform.auth import Principal
from switchboard.platform.crypto import SecretBox
from switchboard.platform.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from switchboard.platform.runtime import Runtime
from switchboard.workflows.trigger_models import WebhookDelivery, WebhookTrigger
from switchboard.workflows.trigger_runs import TriggeredRun, create_runs, dispatch_runs

TOLERANCE = timedelta(minutes=5)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
WEBHOOK_SECRETS = b"switchboard:workflow-webhook-secrets:v1"
HOOK_PATH = "/api/v1/hooks/workflows/"
MAX_MESSAGE_ID = 255
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what token_urlsafe makes; anything else names no webhook


class NotAWebhookWorkflow(Conflict):
    """The workflow's trigger is not a webhook."""

    code, message = "not_a_webhook_workflow", 'The workflow\'s trigger is not {"kind": "webhook"}'


class SignatureRejected(Unauthorized):
    """A delivery whose signature, timestamp or headers do not verify."""

    code = "invalid_signature"


def _box(settings: Settings) -> SecretBox:
    return SecretBox.from_settings(settings, WEBHOOK_SECRETS)


def new_secret() -> str:
    """A new signing secret in Standard Webhooks' form: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` signature of a delivery (what a sender computes; tests and the UI's curl line use it)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _signature_matches(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    expected = sign(secret, message_id, timestamp, body).split(",", 1)[1].encode()
    found = False
    for entry in header.split():
        version, _, value = entry.partition(",")
        # compare every entry in constant time: which one matched must not show in the timing
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            found = True
    return found


@dataclass(frozen=True)
class Delivery:
    """The parts of a request the verification reads."""

    message_id: str | None
    timestamp: str | None
    signature: str | None
    body: bytes
    ip: str | None


@dataclass(frozen=True)
class Accepted:
    """An accepted delivery: its run, and whether this delivery started it (False: a repeated `webhook-id`)."""

    run_id: uuid.UUID
    started: bool


# --- the workflow's side: URL and secret -----------------------------------------------------------


async def webhook_of(principal: Principal, workflow_id: str) -> WebhookTrigger:
    """The workflow's webhook (made on first ask); 409 when its trigger is not a webhook."""
    from switchboard.workflows.service import get_workflow

    workflow = await get_workflow(principal, workflow_id)
    if workflow.trigger_kind != "webhook":
        raise NotAWebhookWorkflow()
    found = await WebhookTrigger.get_or_none(workflow_id=workflow.id)
    if found is not None:
        return found
    try:
        return await WebhookTrigger.create(
            org_id=workflow.org_id, workflow_id=workflow.id, token=secrets.token_urlsafe(32)
        )
    except IntegrityError:  # made by a concurrent first ask
        return await WebhookTrigger.get(workflow_id=workflow.id)


async def rotate_secret(
    principal: Principal, workflow_id: str, settings: Settings, overlap: timedelta
) -> tuple[str, WebhookTrigger]:
    """A new signing secret (returned once); the one it replaces stays valid for `overlap`."""
    webhook = await webhook_of(principal, workflow_id)
    secret = new_secret()
    now = datetime.now(UTC)
    webhook.previous_secret_encrypted = webhook.secret_encrypted
    webhook.previous_valid_until = now + overlap if webhook.secret_encrypted else None
    webhook.secret_encrypted = _box(settings).encrypt(secret)
    webhook.rotated_at = now
    await webhook.save(
        update_fields=["previous_secret_encrypted", "previous_valid_until", "secret_encrypted", "rotated_at"]
    )
    await record("workflow.webhook_secret_rotated", actor=principal, target_type="workflow", target_id=workflow_id)
    return secret, webhook


# --- the sender's side: a delivery ---------------------------------------------------------------------


def _secrets(webhook: WebhookTrigger, settings: Settings, now: datetime) -> list[str]:
    box = _box(settings)
    found = [box.decrypt(webhook.secret_encrypted)] if webhook.secret_encrypted else []
    if webhook.previous_secret_encrypted and webhook.previous_valid_until and webhook.previous_valid_until > now:
        found.append(box.decrypt(webhook.previous_secret_encrypted))
    return found


def _why_refused(webhook: WebhookTrigger, delivery: Delivery, settings: Settings, now: datetime) -> str | None:
    """None when the delivery verifies, else the reason (for the audit entry; the sender sees a generic 401)."""
    if not (delivery.message_id and delivery.timestamp and delivery.signature):
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if len(delivery.message_id) > MAX_MESSAGE_ID or "\x00" in delivery.message_id:
        return "webhook-id too long or not text"
    try:
        timestamp = int(delivery.timestamp)
        sent = datetime.fromtimestamp(timestamp, UTC)
    except (ValueError, OverflowError, OSError):
        return "webhook-timestamp is not a Unix time"
    if abs(now - sent) > TOLERANCE:
        return "webhook-timestamp outside the 5-minute tolerance"
    known = _secrets(webhook, settings, now)
    if not known:
        return "no signing secret is set for this webhook"
    if not any(_signature_matches(s, delivery.message_id, timestamp, delivery.body, delivery.signature) for s in known):
        return "signature does not match"
    return None


def _input_of(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        value = json.loads(body)
        text = json.dumps(value, ensure_ascii=False)
        text.encode()
    except (ValueError, UnicodeError):
        raise ValidationFailed(
            "The body is not valid JSON", details=[{"field": "body", "message": "not JSON", "type": "json"}]
        ) from None
    if "\\u0000" in text:
        raise ValidationFailed(
            "The body contains a NUL character", details=[{"field": "body", "message": "NUL", "type": "json"}]
        )
    return value


async def receive(runtime: Runtime, token: str, delivery: Delivery) -> Accepted:
    """Verify a delivery and start its run once; SignatureRejected (401) leaves only an audit entry."""
    from switchboard.workflows.models import Workflow

    webhook = await WebhookTrigger.get_or_none(token=token) if _TOKEN.fullmatch(token) else None
    workflow = await Workflow.get_or_none(id=webhook.workflow_id, deleted_at=None) if webhook else None
    if webhook is None or workflow is None:
        raise NotFound("No such webhook", code="webhook_not_found")
    now = datetime.now(UTC)
    reason = _why_refused(webhook, delivery, runtime.settings, now)
    if reason is not None:
        await record(
            "workflow.webhook_rejected",
            org_id=webhook.org_id,
            target_type="workflow",
            target_id=webhook.workflow_id,
            outcome="failure",
            ip=delivery.ip,
            details={"reason": reason},
        )
        raise SignatureRejected("The webhook signature did not verify")
    assert delivery.message_id is not None
    if workflow.status != "active":
        raise Conflict(
            f"The workflow is {workflow.status}; activate it to take deliveries", code="workflow_not_runnable"
        )
    run_input = _input_of(delivery.body)
    first = await WebhookDelivery.get_or_none(webhook_id=webhook.id, message_id=delivery.message_id)
    if first is not None and first.run_id is not None:
        return Accepted(first.run_id, started=False)
    run = TriggeredRun(
        workflow_id=workflow.id,
        org_id=workflow.org_id,
        acting_user_id=workflow.owner_id,
        trigger="webhook",
        input=run_input,
        idempotency_key=f"webhook:{webhook.id}:{hashlib.sha256(delivery.message_id.encode()).hexdigest()}",
    )
    try:
        async with in_transaction() as conn:
            # the delivery row is the claim: a second delivery with this id waits here for the first to commit
            row = await WebhookDelivery.create(webhook_id=webhook.id, message_id=delivery.message_id, using_db=conn)
            (created,) = await create_runs(conn, [run], settings=runtime.settings)
            row.run_id = created.id
            await row.save(update_fields=["run_id"], using_db=conn)
    except IntegrityError:  # the same id delivered twice at once: the other delivery's run stands
        first = await WebhookDelivery.get(webhook_id=webhook.id, message_id=delivery.message_id)
        assert first.run_id is not None
        return Accepted(first.run_id, started=False)
    await dispatch_runs(runtime, [created])
    return Accepted(created.id, started=True)


def curl_line(url: str, secret: str | None = None) -> str:
    """A shell line that signs a JSON body with the secret and posts it (bash with openssl)."""
    key = secret or "$WEBHOOK_SECRET"
    return (
        f'body=\'{{"hello":"world"}}\'; id=msg_$(date +%s%N); ts=$(date +%s); '
        f"sig=$(printf '%s' \"$id.$ts.$body\" | openssl dgst -sha256 -mac HMAC "
        f"-macopt hexkey:$(printf '%s' '{key}' | sed 's/^whsec_//' | base64 -d | xxd -p -c 256) -binary | base64); "
        f"curl -sS -X POST '{url}' -H 'Content-Type: application/json' -H \"webhook-id: $id\" "
        f'-H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" -d "$body"'
    )

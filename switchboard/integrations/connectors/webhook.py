"""Outbound webhook: a JSON event POSTed to one URL, signed in the Standard Webhooks format.

The message id is the workflow step's idempotency key, so a receiver that dedupes by
`webhook-id` (as the format asks) takes a retried step's delivery once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from standardwebhooks.webhooks import Webhook

from switchboard.integrations.catalog import Connector, ConnectorTool, ProviderCall, check_auth_status
from switchboard.integrations.errors import IntegrationAuthFailed, IntegrationFailed


class WebhookSettings(BaseModel):
    """Where the events go."""

    url: str = Field(min_length=8, max_length=1000, description="The receiver's URL.")


class InfoArgs(BaseModel):
    """Arguments of webhook_endpoint_info (none)."""


class SendArgs(BaseModel):
    """Arguments of webhook_send."""

    type: str = Field(min_length=1, max_length=100, description="The event type, e.g. ticket.created")
    data: Any = Field(default=None, description="The event's JSON data.")


async def deliver(call: ProviderCall, event_type: str, data: Any) -> dict[str, Any]:
    """POST one signed event; returns the receiver's status and the message id."""
    message_id = call.idempotency_key or f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    body = json.dumps(
        {"type": event_type, "timestamp": now.isoformat(), "data": data}, separators=(",", ":"), default=str
    )
    try:
        signature = Webhook(call.credentials.get("secret", "")).sign(message_id, now, body)
    except Exception as exc:  # the library raises plain errors for a malformed secret
        raise IntegrationAuthFailed("The signing secret is not a valid whsec_ secret") from exc
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    # the receiver dedupes by webhook-id, so a 5xx is safe to retry with the same id
    response = await call.request("POST", call.settings.url, content=body.encode(), headers=headers)
    check_auth_status(response, "The receiver")
    if response.status_code >= 300:
        raise IntegrationFailed(
            f"The receiver answered {response.status_code}", details={"status": response.status_code}
        )
    return {"status": response.status_code, "webhook_id": message_id}


async def verify(call: ProviderCall) -> str:
    await deliver(call, "switchboard.ping", {"message": "Switchboard checks this connection"})
    return str(call.settings.url)


async def info(call: ProviderCall, args: InfoArgs) -> dict[str, Any]:
    return {
        "url": call.settings.url,
        "signature": "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)",
    }


async def send(call: ProviderCall, args: SendArgs) -> dict[str, Any]:
    return await deliver(call, args.type, args.data)


CONNECTOR = Connector(
    type="webhook",
    name="Outbound webhook",
    description="Send signed JSON events (Standard Webhooks) to a receiver's URL.",
    auth=("secret",),
    settings_model=WebhookSettings,
    credential_fields={"secret": ("secret",)},
    verify=verify,
    idempotent_writes=True,
    tools=(
        ConnectorTool("webhook_endpoint_info", "Where events go and how they are signed.", "read", InfoArgs, info),
        ConnectorTool("webhook_send", "Send a signed event to the receiver.", "write", SendArgs, send),
    ),
)

"""Slack: the Web API (auth.test, conversations.list, conversations.replies, chat.postMessage) with a bot token."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from switchboard.integrations.catalog import Connector, ConnectorTool, ProviderCall, check_auth_status
from switchboard.integrations.errors import IntegrationAuthFailed, IntegrationFailed

AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})


class SlackSettings(BaseModel):
    """Where the Slack Web API is."""

    base_url: str = Field("https://slack.com/api", max_length=500, description="The Web API's base URL.")


class ListChannelsArgs(BaseModel):
    """Arguments of slack_list_channels."""

    limit: int = Field(100, ge=1, le=1000)


class ReadThreadArgs(BaseModel):
    """Arguments of slack_read_thread."""

    channel: str = Field(min_length=1, max_length=100, description="The channel id.")
    ts: str = Field(min_length=1, max_length=40, description="The thread's parent message timestamp.")


class PostMessageArgs(BaseModel):
    """Arguments of slack_post_message."""

    channel: str = Field(min_length=1, max_length=100, description="The channel id or name.")
    text: str = Field(min_length=1, max_length=40_000)
    thread_ts: str | None = Field(None, max_length=40, description="Reply in this thread.")


async def _call(call: ProviderCall, method: str, payload: dict[str, Any], *, write: bool = False) -> dict[str, Any]:
    url = f"{call.settings.base_url.rstrip('/')}/{method}"
    headers = {"Authorization": f"Bearer {call.credentials.get('token') or call.credentials.get('access_token', '')}"}
    response = await call.request("POST", url, json=payload, headers=headers, retry_server_errors=not write)
    check_auth_status(response, "Slack")
    try:
        body = response.json()
    except ValueError as exc:
        raise IntegrationFailed(f"Slack answered {response.status_code} without JSON") from exc
    if not isinstance(body, dict) or not body.get("ok"):
        error = str(body.get("error", "unknown_error")) if isinstance(body, dict) else "unknown_error"
        if error in AUTH_ERRORS:
            raise IntegrationAuthFailed(f"Slack refused the token ({error})")
        raise IntegrationFailed(f"Slack answered {error}", details={"error": error})
    return body


async def verify(call: ProviderCall) -> str:
    body = await _call(call, "auth.test", {})
    return f"{body.get('team', '')} / {body.get('user', '')}".strip(" /")


async def list_channels(call: ProviderCall, args: ListChannelsArgs) -> dict[str, Any]:
    body = await _call(call, "conversations.list", {"limit": args.limit, "exclude_archived": True})
    return {"channels": [{"id": c.get("id"), "name": c.get("name")} for c in body.get("channels", [])]}


async def read_thread(call: ProviderCall, args: ReadThreadArgs) -> dict[str, Any]:
    body = await _call(call, "conversations.replies", {"channel": args.channel, "ts": args.ts})
    return {
        "messages": [
            {"user": m.get("user"), "text": m.get("text"), "ts": m.get("ts")} for m in body.get("messages", [])
        ]
    }


async def post_message(call: ProviderCall, args: PostMessageArgs) -> dict[str, Any]:
    payload: dict[str, Any] = {"channel": args.channel, "text": args.text}
    if args.thread_ts:
        payload["thread_ts"] = args.thread_ts
    body = await _call(call, "chat.postMessage", payload, write=True)
    return {"channel": body.get("channel"), "ts": body.get("ts")}


CONNECTOR = Connector(
    type="slack",
    name="Slack",
    description="Post messages, list channels and read threads in a Slack workspace.",
    auth=("token",),
    settings_model=SlackSettings,
    credential_fields={"token": ("token",)},
    verify=verify,
    tools=(
        ConnectorTool("slack_list_channels", "List the workspace's channels.", "read", ListChannelsArgs, list_channels),
        ConnectorTool("slack_read_thread", "Read the messages of a thread.", "read", ReadThreadArgs, read_thread),
        ConnectorTool("slack_post_message", "Post a message to a channel.", "write", PostMessageArgs, post_message),
    ),
)

"""Generic HTTP: an admin-defined base URL, its auth, and an allow-list of methods and paths."""

from __future__ import annotations

import base64
import posixpath
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, Field

from switchboard.integrations.catalog import Connector, ConnectorTool, ProviderCall, check_auth_status
from switchboard.integrations.errors import DestinationNotAllowed, IntegrationFailed

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class AllowedRoute(BaseModel):
    """One allow-list entry: a method and a path prefix under the base URL."""

    method: Method
    path: str = Field(pattern=r"^/", max_length=500, description="A path prefix: /items allows /items and /items/…")


class HttpApiSettings(BaseModel):
    """The API: where it is, what may be called, and how the connection is checked."""

    base_url: str = Field(min_length=8, max_length=500, description="e.g. https://api.example.com/v1")
    allowed: list[AllowedRoute] = Field(min_length=1, max_length=100)
    verify_path: str = Field("/", pattern=r"^/", max_length=500, description="GET here checks the connection.")
    auth_header: str = Field("Authorization", max_length=100, description="The header the token goes in.")


class GetArgs(BaseModel):
    """Arguments of http_api_get."""

    path: str = Field(pattern=r"^/", max_length=1000, description="A path under the base URL, on the allow-list.")
    query: dict[str, str] = Field(default_factory=dict, max_length=50)


class SendArgs(BaseModel):
    """Arguments of http_api_send."""

    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(pattern=r"^/", max_length=1000, description="A path under the base URL, on the allow-list.")
    json_body: Any = None


def _headers(call: ProviderCall) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if call.auth == "token":
        token = call.credentials.get("token", "")
        header = call.settings.auth_header
        headers[header] = f"Bearer {token}" if header.lower() == "authorization" else token
    elif call.auth == "basic":
        pair = f"{call.credentials.get('username', '')}:{call.credentials.get('password', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    if call.idempotency_key:
        headers["Idempotency-Key"] = call.idempotency_key
    return headers


def allowed_url(settings: HttpApiSettings, method: str, path: str) -> str:
    """The URL of an allowed call; `DestinationNotAllowed` for a method or path off the allow-list."""
    decoded = unquote(path)
    normal = posixpath.normpath(decoded)
    if ".." in decoded.split("/") or "\\" in decoded or "?" in path or "#" in path:
        raise DestinationNotAllowed(f"The path {path} is not allowed")
    for route in settings.allowed:
        prefix = route.path.rstrip("/") or "/"
        if route.method == method and (prefix == "/" or normal == prefix or normal.startswith(prefix + "/")):
            return settings.base_url.rstrip("/") + normal
    raise DestinationNotAllowed(f"{method} {path} is not on this connection's allow-list")


async def _send(call: ProviderCall, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    url = allowed_url(call.settings, method, path)
    response = await call.request(
        method, url, headers=_headers(call), retry_server_errors=method == "GET" or bool(call.idempotency_key), **kwargs
    )
    check_auth_status(response, "The API")
    if response.status_code >= 400:
        raise IntegrationFailed(f"The API answered {response.status_code}", details={"status": response.status_code})
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = response.text[:10_000]
    return {"status": response.status_code, "body": body}


async def verify(call: ProviderCall) -> str:
    url = call.settings.base_url.rstrip("/") + call.settings.verify_path
    response = await call.request("GET", url, headers=_headers(call))
    check_auth_status(response, "The API")
    if response.status_code >= 400:
        raise IntegrationFailed(f"The API answered {response.status_code} on {call.settings.verify_path}")
    return str(call.settings.base_url)


async def get(call: ProviderCall, args: GetArgs) -> dict[str, Any]:
    return await _send(call, "GET", args.path, params=args.query)


async def send(call: ProviderCall, args: SendArgs) -> dict[str, Any]:
    return await _send(call, args.method, args.path, json=args.json_body)


CONNECTOR = Connector(
    type="http_api",
    name="HTTP API",
    description="Call an API an admin defined: its base URL, its auth, and the methods and paths allowed.",
    auth=("token", "basic", "none"),
    settings_model=HttpApiSettings,
    credential_fields={"token": ("token",), "basic": ("username", "password"), "none": ()},
    verify=verify,
    idempotent_writes=True,
    tools=(
        ConnectorTool("http_api_get", "GET an allowed path of the API.", "read", GetArgs, get),
        ConnectorTool("http_api_send", "Send a write to an allowed path of the API.", "write", SendArgs, send),
    ),
)

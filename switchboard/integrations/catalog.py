"""What a connector is: its auth, its settings and credentials schemas, its tools, and how it checks a connection.

Each provider's module in `connectors/` builds one `Connector`; `CONNECTORS` is the catalog that
`GET /connectors` shows and `tools.py` turns into agents. A tool's function gets a `ProviderCall`:
the outbound client, the connection's settings and its decrypted credentials (in memory only),
and the idempotency key of the workflow step that called it (None in chat).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from switchboard.integrations.errors import IntegrationAuthFailed, IntegrationFailed, UnknownConnector
from switchboard.integrations.outbound import Outbound

AuthKind = Literal["token", "basic", "oauth2", "secret", "none"]
ToolKind = Literal["read", "write"]
ModelClass = type[BaseModel]


@dataclass(frozen=True)
class ProviderCall:
    """One use of a connection: where to send, with what, on behalf of which step."""

    outbound: Outbound
    settings: Any  # the connector's settings model
    credentials: dict[str, str]
    auth: AuthKind
    idempotency_key: str | None = None

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A call through the one outbound path; writes without a provider idempotency key are not retried on 5xx."""
        return await self.outbound.request(method, url, **kwargs)


@dataclass(frozen=True)
class ConnectorTool:
    """One thing a connector can do, as an agent tool and a workflow node."""

    name: str
    description: str
    kind: ToolKind
    args_model: type[BaseModel]
    run: Callable[[ProviderCall, Any], Awaitable[Any]]


@dataclass(frozen=True)
class OAuthEndpoints:
    """A provider's OAuth 2.0 endpoints (overridable per deployment) and the scopes asked for."""

    authorize_url: str
    token_url: str
    scopes: str


@dataclass(frozen=True)
class Connector:
    """A provider Switchboard can connect to."""

    type: str
    name: str
    description: str
    auth: tuple[AuthKind, ...]
    settings_model: ModelClass
    tools: tuple[ConnectorTool, ...]
    # checks a connection with a real call; returns who the provider says we are
    verify: Callable[[ProviderCall], Awaitable[str]]
    oauth: OAuthEndpoints | None = None
    # true when the provider dedupes writes by a key we send (the step's idempotency key travels)
    idempotent_writes: bool = False
    credential_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)  # auth kind -> fields


def check_auth_status(response: httpx.Response, provider: str) -> None:
    """401 and 403 mean the provider refused our credentials."""
    if response.status_code in (401, 403):
        raise IntegrationAuthFailed(f"{provider} refused the credentials ({response.status_code})")


def ok_json(response: httpx.Response, provider: str) -> Any:
    """The JSON of a 2xx answer; an error status is translated."""
    check_auth_status(response, provider)
    if response.status_code >= 300:
        raise IntegrationFailed(
            f"{provider} answered {response.status_code}: {_summary(response)}",
            details={"status": response.status_code},
        )
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise IntegrationFailed(f"{provider} answered something that is not JSON") from exc


def _summary(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("message", "error", "errorMessages", "errors"):
            if body.get(key):
                return str(body[key])[:200]
    return str(body)[:200]


def _catalog() -> dict[str, Connector]:
    from switchboard.integrations.connectors import email, github, http_api, jira, linear, slack, webhook

    found = [slack.CONNECTOR, github.CONNECTOR, jira.CONNECTOR, linear.CONNECTOR, http_api.CONNECTOR]
    found += [email.CONNECTOR, webhook.CONNECTOR]
    return {c.type: c for c in found}


CONNECTORS: dict[str, Connector] = {}


def connectors() -> dict[str, Connector]:
    """Every connector, by type."""
    if not CONNECTORS:
        CONNECTORS.update(_catalog())
    return CONNECTORS


def connector(kind: str) -> Connector:
    """The connector of that type; `UnknownConnector` (404) if none."""
    try:
        return connectors()[kind]
    except KeyError:
        raise UnknownConnector(f"No connector named {kind}") from None

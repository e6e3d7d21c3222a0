"""Request and response bodies of the integrations routes (they feed the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from switchboard.platform.query import QueryArgs


class CatalogQuery(QueryArgs):
    """`?detail=summary|full`."""

    detail: Literal["summary", "full"] = "summary"


class ToolOut(BaseModel):
    """One tool of a connector."""

    name: str
    description: str
    kind: Literal["read", "write"]
    parameters: dict[str, Any] | None = None


class ConnectorOut(BaseModel):
    """A connector of the catalog; `full` adds the settings schema, the credential fields and tool schemas."""

    type: str
    name: str
    description: str
    auth: list[str]
    tools: list[ToolOut]
    settings_schema: dict[str, Any] | None = None
    credential_fields: dict[str, list[str]] | None = None
    oauth_configured: bool = False


class ConnectorList(BaseModel):
    """The catalog."""

    items: list[ConnectorOut]


class ConnectionOut(BaseModel):
    """A connection; its credentials are never shown."""

    id: str
    connector: str
    auth: str
    scope: Literal["user", "organization"]
    account: str
    settings: dict[str, Any]
    status: Literal["active", "needs_reconnect"]
    status_message: str
    token_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConnectionList(BaseModel):
    """Connections the caller may use."""

    items: list[ConnectionOut]


class ConnectCredentialsIn(BaseModel):
    """Connect with an API key, a token or a login; checked by a real call before it is kept."""

    connector: str = Field(min_length=1, max_length=32)
    auth: Literal["token", "basic", "secret", "none"] = "token"
    credentials: dict[str, str] = Field(default_factory=dict, max_length=10)
    settings: dict[str, Any] = Field(default_factory=dict, max_length=20)
    scope: Literal["user", "organization"] = "user"


class OAuthStartIn(BaseModel):
    """Start an OAuth sign-in."""

    connector: str = Field(min_length=1, max_length=32)
    scope: Literal["user", "organization"] = "user"
    settings: dict[str, Any] = Field(default_factory=dict, max_length=20)


class OAuthStartOut(BaseModel):
    """Where to send the person, and the `state` that must come back."""

    authorization_url: str
    state: str


class OAuthCallbackQuery(QueryArgs):
    """What the provider sends back."""

    state: str = Field(min_length=1, max_length=200)
    code: str | None = Field(None, max_length=2000)
    error: str | None = Field(None, max_length=200)


class OAuthCallbackIn(BaseModel):
    """The same, as a body."""

    state: str = Field(min_length=1, max_length=200)
    code: str | None = Field(None, max_length=2000)
    error: str | None = Field(None, max_length=200)


class DisconnectIn(BaseModel):
    """Which connection to forget."""

    connection_id: str = Field(min_length=1, max_length=64)


class ChatSettingsIn(BaseModel):
    """Which channels' messages reach which agent."""

    enabled: bool = False
    default_agent: str | None = Field(None, max_length=64)
    channels: dict[str, str] = Field(default_factory=dict, max_length=500, description="Channel id -> agent name.")


class ChatSettingsOut(ChatSettingsIn):
    """A chat service's settings for the org."""

    service: str
    updated_at: datetime | None = None


class MappingIn(BaseModel):
    """A provider account that is a Switchboard user."""

    service: str = Field(min_length=1, max_length=32)
    external_id: str = Field(min_length=1, max_length=200)
    external_name: str = Field("", max_length=200)
    user_id: str | None = Field(None, max_length=64, description="Default: the caller.")


class MappingQuery(QueryArgs):
    """Filter and page mappings."""

    service: str | None = Field(None, max_length=32)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class MappingOut(BaseModel):
    """A mapping."""

    id: str
    service: str
    external_id: str
    external_name: str
    user_id: str
    created_at: datetime


class MappingPage(BaseModel):
    """A page of mappings."""

    items: list[MappingOut]
    total: int
    limit: int
    offset: int

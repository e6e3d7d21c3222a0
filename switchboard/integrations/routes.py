"""`/api/v1/connectors…` (the catalog), `/api/v1/providers/…` (connections) and `/api/v1/integrations/…`.

Seed 004's integration provider paths (`/providers/available`, `/providers/connected…`,
`/providers/connect/…`, `/providers/disconnect`, `/providers/refresh/…`) are kept as they are: none
of them is one of the control plane's model-provider paths (`GET /providers`, `/providers/execute…`,
`/providers/estimate`).
"""

from __future__ import annotations

from quart import Blueprint, request
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.integrations import chat_settings as settings_service
from switchboard.integrations import service
from switchboard.integrations.catalog import Connector, connector, connectors
from switchboard.integrations.models import ChatSetting, Connection, UserMapping
from switchboard.integrations.schemas import (
    CatalogQuery,
    ChatSettingsIn,
    ChatSettingsOut,
    ConnectCredentialsIn,
    ConnectionList,
    ConnectionOut,
    ConnectorList,
    ConnectorOut,
    DisconnectIn,
    MappingIn,
    MappingOut,
    MappingPage,
    MappingQuery,
    OAuthCallbackIn,
    OAuthCallbackQuery,
    OAuthStartIn,
    OAuthStartOut,
    ToolOut,
)
from switchboard.integrations.service import Integrations
from switchboard.platform.auth import Principal, current_principal, require_user, resolve_principal
from switchboard.platform.errors import AppError
from switchboard.platform.openapi import no_content
from switchboard.platform.web import runtime

catalog = Blueprint("integration_catalog", __name__, url_prefix="/api/v1/connectors")
providers = Blueprint("integration_providers", __name__, url_prefix="/api/v1/providers")
integration_settings = Blueprint("integration_settings", __name__, url_prefix="/api/v1/integrations")


def _integrations() -> Integrations:
    return runtime().resource(Integrations)


def _connector_out(found: Connector, full: bool) -> ConnectorOut:
    apps = runtime().settings.integrations_oauth_apps
    return ConnectorOut(
        type=found.type,
        name=found.name,
        description=found.description,
        auth=list(found.auth),
        tools=[
            ToolOut(
                name=t.name,
                description=t.description,
                kind=t.kind,
                parameters=t.args_model.model_json_schema() if full else None,
            )
            for t in found.tools
        ],
        settings_schema=found.settings_model.model_json_schema() if full else None,
        credential_fields={k: list(v) for k, v in found.credential_fields.items()} if full else None,
        oauth_configured=found.oauth is not None and bool(apps.get(found.type, {}).get("client_id")),
    )


def _connection_out(row: Connection) -> ConnectionOut:
    return ConnectionOut(
        id=str(row.id),
        connector=row.connector,
        auth=row.auth,
        scope="organization" if row.user_id is None else "user",
        account=row.account,
        settings=row.settings,
        status=row.status,
        status_message=row.status_message,
        token_expires_at=row.token_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# --- the catalog ---------------------------------------------------------------------------------


@catalog.get("")
@require_user
@validate_querystring(CatalogQuery)
@validate_response(ConnectorList)
async def list_connectors(query_args: CatalogQuery) -> ConnectorList:
    """Every connector: its auth, tools and (with `detail=full`) its settings schema and tool schemas."""
    full = query_args.detail == "full"
    return ConnectorList(items=[_connector_out(c, full) for c in connectors().values()])


@catalog.get("/<type>")
@require_user
@validate_response(ConnectorOut)
async def get_connector(type: str) -> ConnectorOut:
    """One connector in full."""
    return _connector_out(connector(type), True)


# --- connections ---------------------------------------------------------------------------------


@providers.get("/available")
@require_user
@validate_response(ConnectorList)
async def available() -> ConnectorList:
    """The providers one can connect (the catalog's summary)."""
    return ConnectorList(items=[_connector_out(c, False) for c in connectors().values()])


@providers.get("/connected")
@require_user
@validate_response(ConnectionList)
async def connected() -> ConnectionList:
    """The caller's connections and their org's, with status (`needs_reconnect` says why)."""
    rows = await service.list_connections(current_principal())
    return ConnectionList(items=[_connection_out(r) for r in rows])


@providers.get("/connected/<service>")
@require_user
@validate_response(ConnectionList)
async def connected_service(service: str) -> ConnectionList:
    """The caller's and their org's connections to one provider."""
    rows = await _list(current_principal(), service)
    return ConnectionList(items=[_connection_out(r) for r in rows])


async def _list(principal: Principal, kind: str) -> list[Connection]:
    return await service.list_connections(principal, kind)


@providers.post("/connect/credentials")
@require_user
@validate_request(ConnectCredentialsIn)
@validate_response(ConnectionOut, 201)
async def connect_credentials(data: ConnectCredentialsIn) -> tuple[ConnectionOut, int]:
    """Connect with credentials: checked by a real call first, then kept encrypted and never shown again."""
    row = await service.connect_with_credentials(
        _integrations(),
        current_principal(),
        data.connector,
        auth=data.auth,
        credentials=data.credentials,
        settings=data.settings,
        org_wide=data.scope == "organization",
    )
    return _connection_out(row), 201


@providers.post("/connect/oauth/start")
@require_user
@validate_request(OAuthStartIn)
@validate_response(OAuthStartOut)
async def oauth_start(data: OAuthStartIn) -> OAuthStartOut:
    """Start an OAuth 2.0 sign-in with PKCE; send the person to `authorization_url`."""
    url, state = await service.oauth_start(
        _integrations(),
        current_principal(),
        data.connector,
        base_url=request.host_url,
        org_wide=data.scope == "organization",
        settings=data.settings,
    )
    return OAuthStartOut(authorization_url=url, state=state)


async def _optional_principal() -> Principal | None:
    try:
        return await resolve_principal()
    except AppError:
        return None


@providers.get("/connect/oauth/callback")
@validate_querystring(OAuthCallbackQuery)
@validate_response(ConnectionOut)
async def oauth_callback_get(query_args: OAuthCallbackQuery) -> ConnectionOut:
    """Where the provider sends the person back: the `state` must be the one started by this person."""
    row = await service.oauth_callback(
        _integrations(),
        await _optional_principal(),
        state=query_args.state,
        code=query_args.code,
        error=query_args.error,
    )
    return _connection_out(row)


@providers.post("/connect/oauth/callback")
@validate_request(OAuthCallbackIn)
@validate_response(ConnectionOut)
async def oauth_callback_post(data: OAuthCallbackIn) -> ConnectionOut:
    """The same, for a client that relays the code in a body."""
    row = await service.oauth_callback(
        _integrations(), await _optional_principal(), state=data.state, code=data.code, error=data.error
    )
    return _connection_out(row)


@providers.post("/disconnect")
@require_user
@no_content("Disconnected")
@validate_request(DisconnectIn)
async def disconnect(data: DisconnectIn) -> tuple[str, int]:
    """Forget a connection and its credentials."""
    await service.disconnect(current_principal(), data.connection_id)
    return "", 204


@providers.post("/refresh/<provider_name>")
@require_user
@validate_response(ConnectionList)
async def refresh_provider(provider_name: str) -> ConnectionList:
    """Check the connections to a provider again now: OAuth tokens refreshed, others verified by a real call."""
    rows = await service.refresh(_integrations(), current_principal(), provider_name)
    return ConnectionList(items=[_connection_out(r) for r in rows])


# --- chat settings and user mappings -------------------------------------------------------------


def _chat_out(row: ChatSetting) -> ChatSettingsOut:
    return ChatSettingsOut(
        service=row.service,
        enabled=row.enabled,
        default_agent=row.default_agent,
        channels=row.channels or {},
        updated_at=getattr(row, "updated_at", None),
    )


@integration_settings.get("/chat-settings/<service_name>")
@require_user
@validate_response(ChatSettingsOut)
async def get_chat_settings(service_name: str) -> ChatSettingsOut:
    """Which channels of the chat service reach which agent."""
    return _chat_out(await settings_service.chat_settings(current_principal(), service_name))


@integration_settings.put("/chat-settings/<service_name>")
@require_user
@validate_request(ChatSettingsIn)
@validate_response(ChatSettingsOut)
async def put_chat_settings(service_name: str, data: ChatSettingsIn) -> ChatSettingsOut:
    """Replace the chat service's settings (org admins)."""
    row = await settings_service.save_chat_settings(
        current_principal(),
        service_name,
        enabled=data.enabled,
        default_agent=data.default_agent,
        channels=data.channels,
    )
    return _chat_out(row)


def _mapping_out(row: UserMapping) -> MappingOut:
    return MappingOut(
        id=str(row.id),
        service=row.service,
        external_id=row.external_id,
        external_name=row.external_name,
        user_id=str(row.user_id),
        created_at=row.created_at,
    )


@integration_settings.get("/user-mappings")
@require_user
@validate_querystring(MappingQuery)
@validate_response(MappingPage)
async def list_mappings(query_args: MappingQuery) -> MappingPage:
    """Which provider account is which user (admins see the org's; members their own)."""
    rows, total = await settings_service.list_mappings(
        current_principal(), service=query_args.service, limit=query_args.limit, offset=query_args.offset
    )
    return MappingPage(
        items=[_mapping_out(r) for r in rows], total=total, limit=query_args.limit, offset=query_args.offset
    )


@integration_settings.post("/user-mappings")
@require_user
@validate_request(MappingIn)
@validate_response(MappingOut, 201)
async def create_mapping(data: MappingIn) -> tuple[MappingOut, int]:
    """Map a provider account to a user of the org."""
    row = await settings_service.create_mapping(
        current_principal(),
        service=data.service,
        external_id=data.external_id,
        external_name=data.external_name,
        user_id=data.user_id,
    )
    return _mapping_out(row), 201


@integration_settings.delete("/user-mappings/<mapping_id>")
@require_user
@no_content("Removed")
async def delete_mapping(mapping_id: str) -> tuple[str, int]:
    """Remove a mapping."""
    await settings_service.delete_mapping(current_principal(), mapping_id)
    return "", 204

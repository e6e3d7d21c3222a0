"""Connections: connect (checked by a real call), OAuth with PKCE, refresh before expiry, disconnect, and tool calls.

Credentials are kept as one JSON object encrypted under SECRET_KEY (rotatable: SECRET_KEY_PREVIOUS
still decrypts, `rotate_secrets` re-encrypts); they are decrypted only in memory for a call and
never returned, logged or audited. A connection belongs to a user, or (made by an admin) to the
whole org; a user's own connection is used before the org's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import pydantic
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from switchboard.config import Settings
from switchboard.integrations.catalog import Connector, ConnectorTool, ProviderCall, connector
from switchboard.integrations.errors import (
    ConnectionNotFound,
    IntegrationAuthFailed,
    IntegrationFailed,
    InvalidOAuthState,
    NeedsReconnect,
    OAuthNotConfigured,
)
from switchboard.integrations.models import Connection, OAuthState, WriteLedger
from switchboard.integrations.outbound import Outbound
from switchboard.platform.audit.service import record
from switchboard.platform.auth import Principal
from switchboard.platform.crypto import SecretBox
from switchboard.platform.errors import Forbidden, UndecryptableSecret, ValidationFailed
from switchboard.platform.ids import parse_id

log = logging.getLogger(__name__)
T = TypeVar("T")

CREDENTIALS = b"switchboard:integration-credentials:v1"
OAUTH_STATE_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/api/v1/providers/connect/oauth/callback"


@dataclass
class Integrations:
    """The context's per-process objects: settings, the outbound client, the credentials box."""

    settings: Settings
    outbound: Outbound
    box: SecretBox

    @classmethod
    def open(cls, settings: Settings) -> Integrations:
        """Built once per process at start-up."""
        return cls(settings, Outbound.from_settings(settings), SecretBox.from_settings(settings, CREDENTIALS))


# --- reading connections -------------------------------------------------------------------------


def _visible(principal: Principal) -> Q:
    """The caller's own connections and their org's."""
    return Q(org_id=principal.org_id) & (Q(user_id=principal.user_id) | Q(user_id=None))


async def list_connections(principal: Principal, kind: str | None = None) -> list[Connection]:
    """The caller's and their org's connections, optionally of one connector."""
    query = Connection.filter(_visible(principal))
    if kind is not None:
        connector(kind)
        query = query.filter(connector=kind)
    return await query.order_by("connector", "created_at")


async def get_connection(principal: Principal, connection_id: str) -> Connection:
    """One visible connection; another user's or org's is 404."""
    found = await Connection.filter(_visible(principal), id=parse_id(connection_id, "Connection")).first()
    if found is None:
        raise ConnectionNotFound()
    return found


async def connection_for(principal: Principal, kind: str) -> Connection:
    """The connection a tool of `kind` uses: the caller's own, else the org's."""
    rows = await Connection.filter(_visible(principal), connector=kind).order_by("created_at")
    own = [r for r in rows if r.user_id == principal.user_id]
    candidates = own or rows
    if not candidates:
        raise ConnectionNotFound(f"{connector(kind).name} is not connected: connect it first")
    return candidates[-1]


# --- connecting ----------------------------------------------------------------------------------


def _validated(model: type[pydantic.BaseModel], data: dict[str, Any], what: str) -> pydantic.BaseModel:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        details = [
            {"field": f"{what}." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailed(f"Invalid {what} for this connector", details=details) from None


def _credentials(found: Connector, auth: str, given: dict[str, Any]) -> dict[str, str]:
    fields = found.credential_fields.get(auth)
    if fields is None or auth == "oauth2":
        raise ValidationFailed(
            f"{found.name} connects with {', '.join(found.auth)}, not {auth}",
            details=[{"field": "auth", "message": f"one of {', '.join(a for a in found.auth if a != 'oauth2')}"}],
        )
    missing = [f for f in fields if not isinstance(given.get(f), str) or not given[f].strip()]
    if missing:
        raise ValidationFailed(
            "Credentials are missing", details=[{"field": f"credentials.{f}", "message": "required"} for f in missing]
        )
    return {f: str(given[f]) for f in fields}


def _owner(principal: Principal, org_wide: bool) -> uuid.UUID | None:
    if org_wide and not principal.is_admin:
        raise Forbidden("Only an organization admin can connect a provider for the whole organization")
    return None if org_wide else principal.user_id


async def _save(
    integ: Integrations,
    principal: Principal,
    found: Connector,
    *,
    auth: str,
    credentials: dict[str, str],
    settings: dict[str, Any],
    account: str,
    org_wide: bool,
    expires_at: datetime | None = None,
) -> Connection:
    """One connection per (owner, connector): connecting again replaces its credentials."""
    owner = None if org_wide else principal.user_id
    fields: dict[str, Any] = {
        "auth": auth,
        "account": account[:200],
        "settings": settings,
        "secret": integ.box.encrypt(json.dumps(credentials)),
        "status": "active",
        "status_message": "",
        "token_expires_at": expires_at,
    }
    async with in_transaction() as conn:
        # two connects of the same owner and connector at once: the second waits and replaces, never a twin
        lock = f"integration-connection:{principal.org_id}:{owner}:{found.type}"
        await conn.execute_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [lock])
        row = await Connection.filter(org_id=principal.org_id, user_id=owner, connector=found.type).first()
        if row is None:
            row = await Connection.create(org_id=principal.org_id, user_id=owner, connector=found.type, **fields)
        else:
            await Connection.filter(id=row.id).update(**fields)
            await row.refresh_from_db()
    await record(
        "integration.connected",
        actor=principal,
        target_type="integration_connection",
        target_id=row.id,
        details={"connector": found.type, "auth": auth, "org_wide": org_wide},
    )
    return row


async def connect_with_credentials(
    integ: Integrations,
    principal: Principal,
    kind: str,
    *,
    auth: str,
    credentials: dict[str, Any],
    settings: dict[str, Any],
    org_wide: bool = False,
) -> Connection:
    """Check the credentials with a real call, then keep them encrypted; refused ones are never stored."""
    found = connector(kind)
    _owner(principal, org_wide)
    parsed = _validated(found.settings_model, settings, "settings")
    creds = _credentials(found, auth, credentials)
    call = ProviderCall(integ.outbound, parsed, creds, auth)  # type: ignore[arg-type]
    try:
        account = await _translated(found.verify(call), found)
    except IntegrationAuthFailed:
        await record(
            "integration.connect_refused",
            actor=principal,
            target_type="integration_connector",
            target_id=kind,
            outcome="failure",
            details={"connector": kind},
        )
        raise
    return await _save(
        integ,
        principal,
        found,
        auth=auth,
        credentials=creds,
        settings=parsed.model_dump(mode="json"),
        account=account,
        org_wide=org_wide,
    )


async def disconnect(principal: Principal, connection_id: str) -> None:
    """Forget a connection and its credentials; an org-wide one only by an admin."""
    row = await get_connection(principal, connection_id)
    if row.user_id is None and not principal.is_admin:
        raise Forbidden("Only an organization admin can disconnect the organization's connection")
    await Connection.filter(id=row.id).delete()
    await record(
        "integration.disconnected",
        actor=principal,
        target_type="integration_connection",
        target_id=row.id,
        details={"connector": row.connector},
    )


async def mark_needs_reconnect(row: Connection, message: str) -> None:
    """The provider refused the stored credentials: a person must connect again."""
    await Connection.filter(id=row.id).update(status="needs_reconnect", status_message=message[:500])
    row.status, row.status_message = "needs_reconnect", message[:500]
    log.warning("integration connection %s needs reconnecting: %s", row.id, message)


# --- OAuth 2.0 with PKCE -------------------------------------------------------------------------


def _oauth_app(integ: Integrations, found: Connector) -> dict[str, str]:
    app = integ.settings.integrations_oauth_apps.get(found.type)
    if found.oauth is None or not app or not app.get("client_id"):
        raise OAuthNotConfigured(f"No OAuth app is configured for {found.name}")
    return {
        "client_id": app["client_id"],
        "client_secret": app.get("client_secret", ""),
        "authorize_url": app.get("authorize_url") or found.oauth.authorize_url,
        "token_url": app.get("token_url") or found.oauth.token_url,
        "scopes": app.get("scopes") or found.oauth.scopes,
    }


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


async def oauth_start(
    integ: Integrations,
    principal: Principal,
    kind: str,
    *,
    base_url: str,
    org_wide: bool = False,
    settings: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """The provider's authorization URL and its `state`, bound to the caller (single use, 10 minutes)."""
    found = connector(kind)
    _owner(principal, org_wide)
    app = _oauth_app(integ, found)
    parsed = _validated(found.settings_model, settings or {}, "settings")
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = (integ.settings.public_url or base_url).rstrip("/") + CALLBACK_PATH
    await OAuthState.create(
        state_hash=_hash(state),
        org_id=principal.org_id,
        user_id=principal.user_id,
        connector=kind,
        org_wide=org_wide,
        settings=parsed.model_dump(mode="json"),
        verifier=integ.box.encrypt(verifier),
        redirect_uri=redirect_uri,
        expires_at=datetime.now(UTC) + OAUTH_STATE_TTL,
    )
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": app["scopes"],
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{app['authorize_url']}?{urlencode(query)}", state


async def oauth_callback(
    integ: Integrations, principal: Principal | None, *, state: str, code: str | None, error: str | None = None
) -> Connection:
    """Finish a sign-in: the state must be ours, unused, unexpired and the caller's; the code is exchanged with PKCE."""
    row = await OAuthState.get_or_none(state_hash=_hash(state))
    now = datetime.now(UTC)
    if row is None or row.used_at is not None or row.expires_at < now:
        raise InvalidOAuthState()
    if principal is not None and (principal.user_id != row.user_id or principal.org_id != row.org_id):
        raise InvalidOAuthState()
    if await OAuthState.filter(id=row.id, used_at=None).update(used_at=now) != 1:
        raise InvalidOAuthState()
    if error or not code:
        raise IntegrationAuthFailed(f"The provider did not grant access ({(error or 'no code')[:100]})")
    found = connector(row.connector)
    app = _oauth_app(integ, found)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": row.redirect_uri,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "code_verifier": integ.box.decrypt(row.verifier),
    }
    tokens = await _token_request(integ, app["token_url"], form, found)
    creds, expires_at = _token_credentials(tokens, None)
    settings = row.settings
    call = ProviderCall(integ.outbound, found.settings_model.model_validate(settings), creds, "oauth2")
    account = await _translated(found.verify(call), found)
    owner = await _principal_of_state(row, principal)
    return await _save(
        integ,
        owner,
        found,
        auth="oauth2",
        credentials=creds,
        settings=settings,
        account=account,
        org_wide=row.org_wide,
        expires_at=expires_at,
    )


async def _principal_of_state(row: OAuthState, principal: Principal | None) -> Principal:
    if principal is not None:
        return principal
    from switchboard.platform.auth import principal_for

    return await principal_for(row.user_id, auth_method="oauth_callback", ip=None, org_id=row.org_id)


async def _token_request(integ: Integrations, url: str, form: dict[str, str], found: Connector) -> dict[str, Any]:
    response = await integ.outbound.request("POST", url, data=form, headers={"Accept": "application/json"})
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code in (400, 401, 403):
        reason = str(body.get("error", response.status_code)) if isinstance(body, dict) else str(response.status_code)
        raise IntegrationAuthFailed(f"{found.name} refused the sign-in ({reason[:100]})")
    if response.status_code >= 300 or not isinstance(body, dict) or not body.get("access_token"):
        raise IntegrationFailed(f"{found.name}'s token endpoint answered {response.status_code}")
    return body


def _token_credentials(
    tokens: dict[str, Any], previous: dict[str, str] | None
) -> tuple[dict[str, str], datetime | None]:
    creds = {"access_token": str(tokens["access_token"])}
    refresh = tokens.get("refresh_token") or (previous or {}).get("refresh_token")
    if refresh:
        creds["refresh_token"] = str(refresh)
    try:  # a provider's odd `expires_in` ("3600s", a list...) means no known expiry, not an error of ours
        seconds = int(tokens.get("expires_in") or 0)
    except (TypeError, ValueError):
        seconds = 0
    expires_at = datetime.now(UTC) + timedelta(seconds=seconds) if seconds > 0 else None
    return creds, expires_at


async def credentials_of(integ: Integrations, row: Connection, *, force_refresh: bool = False) -> dict[str, str]:
    """The connection's credentials in memory; an OAuth token close to expiry is refreshed first.

    Credentials kept under an earlier SECRET_KEY are re-encrypted under the current one (as BYOK keys
    are); ones that no longer decrypt at all mark the connection `needs_reconnect`.
    """
    try:
        creds: dict[str, str] = json.loads(integ.box.decrypt(row.secret))
    except UndecryptableSecret:
        message = f"The stored credentials can no longer be read; connect {connector(row.connector).name} again"
        await mark_needs_reconnect(row, message)
        raise NeedsReconnect(message) from None
    if not integ.box.is_current(row.secret):
        row.secret = integ.box.rotate(row.secret)
        await Connection.filter(id=row.id).update(secret=row.secret)
    if row.auth != "oauth2" or "refresh_token" not in creds:
        return creds
    margin = timedelta(seconds=integ.settings.integrations_refresh_margin_seconds)
    if not force_refresh and (row.token_expires_at is None or row.token_expires_at - margin > datetime.now(UTC)):
        return creds
    return await _refresh(integ, row, force_refresh)


async def _refresh(integ: Integrations, row: Connection, force: bool) -> dict[str, str]:
    found = connector(row.connector)
    app = _oauth_app(integ, found)
    margin = timedelta(seconds=integ.settings.integrations_refresh_margin_seconds)
    tokens: dict[str, Any] | None = None
    async with in_transaction() as conn:
        # one refresh at a time per connection: a second caller waits, then finds the new token
        locked = await Connection.select_for_update().using_db(conn).get(id=row.id)
        creds: dict[str, str] = json.loads(integ.box.decrypt(locked.secret))
        fresh = locked.token_expires_at is not None and locked.token_expires_at - margin > datetime.now(UTC)
        if fresh and not (force and locked.secret == row.secret):
            row.secret, row.token_expires_at = locked.secret, locked.token_expires_at
            return creds
        form = {
            "grant_type": "refresh_token",
            "refresh_token": creds["refresh_token"],
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
        try:
            tokens = await _token_request(integ, app["token_url"], form, found)
        except IntegrationAuthFailed:
            tokens = None
        if tokens is not None:
            fresh_creds, expires_at = _token_credentials(tokens, creds)
            secret = integ.box.encrypt(json.dumps(fresh_creds))
            await (
                Connection.filter(id=row.id)
                .using_db(conn)
                .update(secret=secret, token_expires_at=expires_at, status="active", status_message="")
            )
    if tokens is None:  # marked after the transaction: an exception inside would roll the mark back
        message = f"{found.name} no longer accepts this connection's sign-in; connect {found.name} again"
        await mark_needs_reconnect(row, message)
        raise NeedsReconnect(message)
    row.secret, row.token_expires_at, row.status = secret, expires_at, "active"
    log.info("integration connection %s: token refreshed", row.id)
    return fresh_creds


async def refresh(integ: Integrations, principal: Principal, kind: str) -> list[Connection]:
    """Check the caller's connections of a connector again: refresh OAuth tokens, re-verify the others."""
    found = connector(kind)
    rows = await Connection.filter(_visible(principal), connector=kind)
    if not rows:
        raise ConnectionNotFound(f"{found.name} is not connected")
    for row in rows:
        try:
            creds = await credentials_of(integ, row, force_refresh=True)
            call = ProviderCall(integ.outbound, found.settings_model.model_validate(row.settings), creds, row.auth)  # type: ignore[arg-type]
            await found.verify(call)
        except IntegrationAuthFailed:
            await mark_needs_reconnect(row, _revoked_message(found))
        except NeedsReconnect:
            pass
        else:
            if row.status != "active":
                await Connection.filter(id=row.id).update(status="active", status_message="")
                row.status, row.status_message = "active", ""
    return rows


def _revoked_message(found: Connector) -> str:
    return f"{found.name} refused the stored credentials (revoked or expired); connect {found.name} again"


# --- tool calls ----------------------------------------------------------------------------------


async def call_tool(
    integ: Integrations,
    principal: Principal,
    found: Connector,
    tool: ConnectorTool,
    args: pydantic.BaseModel,
    *,
    idempotency_key: str | None = None,
) -> Any:
    """Run a connector tool on the caller's connection; a workflow step's write happens once per key."""
    row = await connection_for(principal, found.type)
    if row.status == "needs_reconnect":
        raise NeedsReconnect(row.status_message or _revoked_message(found))
    ledger: WriteLedger | None = None
    if tool.kind == "write" and idempotency_key:
        try:
            ledger = await WriteLedger.create(org_id=principal.org_id, key=idempotency_key[:200], tool=tool.name)
        except IntegrityError:
            ledger = await WriteLedger.get(key=idempotency_key[:200], tool=tool.name)
            if ledger.status == "done":
                return ledger.result
    try:
        creds = await credentials_of(integ, row)
        call = ProviderCall(
            integ.outbound,
            found.settings_model.model_validate(row.settings),
            creds,
            row.auth,  # type: ignore[arg-type]
            idempotency_key=idempotency_key,
        )
        try:
            result = await _translated(tool.run(call, args), found)
        except IntegrationAuthFailed:
            message = _revoked_message(found)
            await mark_needs_reconnect(row, message)
            raise NeedsReconnect(message) from None
    except BaseException:
        if ledger is not None:
            await WriteLedger.filter(id=ledger.id, status="started").delete()
        raise
    if ledger is not None:
        await WriteLedger.filter(id=ledger.id).update(status="done", result=json.loads(json.dumps(result, default=str)))
    await record(
        "integration.tool_called",
        actor=principal,
        target_type="integration_connection",
        target_id=row.id,
        details={"connector": found.type, "tool": tool.name, "kind": tool.kind},
    )
    return result


async def _translated(work: Awaitable[T], found: Connector) -> T:
    """A provider's answer of an unexpected shape is its error, not ours."""
    try:
        return await work
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise IntegrationFailed(f"{found.name} answered in an unexpected shape") from exc


async def rotate_secrets(integ: Integrations) -> int:
    """Re-encrypt every stored credential under the current SECRET_KEY; the number re-encrypted."""
    changed = 0
    for row in await Connection.all():
        if not integ.box.is_current(row.secret):
            await Connection.filter(id=row.id).update(secret=integ.box.rotate(row.secret))
            changed += 1
    return changed

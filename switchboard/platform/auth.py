"""Who is calling: the `Principal`, resolved once per request and passed to every service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from quart import current_app, g, has_websocket_context, request, websocket
from tortoise.connection import get_connection

from switchboard.platform.errors import CsrfOriginError, Forbidden, Unauthorized
from switchboard.platform.identity.models import ApiKey, Session
from switchboard.platform.security import API_KEY_PREFIX, hash_token, read_access_token

SESSION_COOKIE = "sb_session"
REFRESH_COOKIE = "sb_refresh"
ADMIN_ROLES = frozenset({"owner", "admin"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """The acting user, in their active org, and how they authenticated."""

    user_id: uuid.UUID
    email: str
    org_id: uuid.UUID
    role: str
    group_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    auth_method: str = "jwt"  # jwt | api_key | session
    is_superadmin: bool = False
    ip: str | None = None
    api_key_id: uuid.UUID | None = None

    @property
    def is_admin(self) -> bool:
        """Owner or admin of the active org."""
        return self.role in ADMIN_ROLES


# A user, the membership that makes their principal (the org asked for; else their active org, else
# their first) and their groups in that org: one round trip, made for every authenticated request.
_PRINCIPAL = """
SELECT u.email, u.token_version, u.is_superadmin, u.delete_requested_at, m.org_id, m.role,
       ARRAY(SELECT gm.group_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
             WHERE gm.user_id = u.id AND g.org_id = m.org_id) AS group_ids
FROM users u
LEFT JOIN LATERAL (
    SELECT org_id, role FROM memberships
    WHERE user_id = u.id AND ($2::uuid IS NULL OR org_id = $2::uuid)
    ORDER BY coalesce(org_id = u.active_org_id, false) DESC, created_at
    LIMIT 1
) m ON true
WHERE u.id = $1
"""


async def _principal_row(user_id: uuid.UUID, org_id: uuid.UUID | None) -> dict[str, Any] | None:
    rows = await get_connection("default").execute_query_dict(_PRINCIPAL, [user_id, org_id])
    return rows[0] if rows else None


def _principal_of(
    user_id: uuid.UUID, row: dict[str, Any], *, auth_method: str, ip: str | None, api_key_id: uuid.UUID | None
) -> Principal:
    if row["delete_requested_at"] is not None:
        raise Unauthorized("This account is scheduled for deletion")
    if row["org_id"] is None:
        raise Unauthorized("You are not a member of any organization")
    return Principal(
        user_id=user_id,
        email=row["email"],
        org_id=row["org_id"],
        role=row["role"],
        group_ids=frozenset(row["group_ids"]),
        auth_method=auth_method,
        is_superadmin=row["is_superadmin"],
        ip=ip,
        api_key_id=api_key_id,
    )


async def principal_for(
    user_id: uuid.UUID,
    *,
    auth_method: str,
    ip: str | None,
    org_id: uuid.UUID | None = None,
    api_key_id: uuid.UUID | None = None,
) -> Principal:
    """The principal of user `user_id` in `org_id` (default: their active org); Unauthorized if not a member."""
    row = await _principal_row(user_id, org_id)
    if row is None:
        raise Unauthorized("Your account no longer exists")
    return _principal_of(user_id, row, auth_method=auth_method, ip=ip, api_key_id=api_key_id)


def _incoming() -> Any:
    """The request, or the WebSocket handshake (both carry headers, cookies and the peer's address)."""
    return websocket if has_websocket_context() else request


async def still_allowed(principal: Principal) -> bool:
    """Whether `principal` would be let in now: its account, its membership of the org, the API key it used.

    For what outlives its request (a live stream): a member removed, an account deleted or a key revoked
    or disabled since the stream began ends it.
    """
    try:
        await principal_for(
            principal.user_id, auth_method=principal.auth_method, ip=principal.ip, org_id=principal.org_id
        )
    except Unauthorized:
        return False
    if principal.api_key_id is not None:
        return await ApiKey.filter(id=principal.api_key_id, revoked_at=None, disabled_at=None).exists()
    return True


def client_ip() -> str | None:
    """The caller's address as the server sees it."""
    ip: str | None = _incoming().remote_addr
    return ip


async def _from_api_key(raw: str) -> Principal:
    key = await ApiKey.get_or_none(key_hash=hash_token(raw), revoked_at=None)
    if key is None:
        raise Unauthorized("Invalid or revoked API key")
    if key.disabled_at is not None:
        raise Unauthorized("This API key is disabled; enable it again to use it")
    key.last_used_at = datetime.now(UTC)
    await key.save(update_fields=["last_used_at"])
    return await principal_for(
        key.user_id,
        auth_method="api_key",
        ip=client_ip(),
        org_id=key.org_id,
        api_key_id=key.id,
    )


async def _from_jwt(token: str) -> Principal:
    claims = read_access_token(current_app.config["SETTINGS"].resolved_secret_key(), token)
    if claims is None:
        raise Unauthorized("Invalid or expired access token")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise Unauthorized("Invalid or expired access token") from None
    row = await _principal_row(user_id, None)
    if row is None or row["token_version"] != claims.get("ver"):
        raise Unauthorized("Invalid or expired access token")
    return _principal_of(user_id, row, auth_method="jwt", ip=client_ip(), api_key_id=None)


def _check_origin() -> None:
    incoming = _incoming()
    if incoming is request and request.method in _SAFE_METHODS:
        return
    # a WebSocket handshake is a GET, yet a cookie-borne one from another site must not open
    origin = incoming.headers.get("Origin")
    scheme = {"ws": "http", "wss": "https"}.get(incoming.scheme, incoming.scheme)
    allowed = {f"{scheme}://{incoming.host}"}
    public = current_app.config["SETTINGS"].public_url
    if public:
        parts = urlsplit(public)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    if origin not in allowed:
        raise CsrfOriginError()


async def _from_session(token: str) -> Principal:
    session = await Session.get_or_none(session_token_hash=hash_token(token), revoked_at=None)
    if session is None or session.expires_at < datetime.now(UTC):
        raise Unauthorized("Your session has ended; sign in again")
    _check_origin()
    return await principal_for(session.user_id, auth_method="session", ip=client_ip())


async def resolve_principal() -> Principal:
    """The caller, from a Bearer token (JWT or API key), `X-API-Key`, or the session cookie."""
    request = _incoming()
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        return await (_from_api_key(token) if token.startswith(API_KEY_PREFIX) else _from_jwt(token))
    if api_key := request.headers.get("X-API-Key"):
        return await _from_api_key(api_key.strip())
    if cookie := request.cookies.get(SESSION_COOKIE):
        return await _from_session(cookie)
    raise Unauthorized()


P = ParamSpec("P")
R = TypeVar("R")


def _guard(
    check: Callable[[Principal], None] | None,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            principal = await _caller_within_limits()
            if check is not None:
                check(principal)
            g.principal = principal
            return await view(*args, **kwargs)

        wrapper.__switchboard_auth__ = True  # type: ignore[attr-defined]
        return wrapper

    return decorator


def signs_in(view: Callable[..., Any] | None) -> bool:
    """True for a route guarded by `require_*`: its guard counts the caller's IP against `api_ip`."""
    return bool(getattr(view, "__switchboard_auth__", False))


async def count_ip() -> None:
    """Count a hit of the caller's IP against `api_ip` (429 past the limit)."""
    await current_app.extensions["runtime"].limiter.hit("api_ip", client_ip() or "unknown")


async def _caller_within_limits() -> Principal:
    """The caller, counted against `api_ip` and `api_user`.

    The IP is counted while the credentials are checked, not before: one wait fewer on every request.
    Past the IP's limit the answer is 429 whatever the credentials.
    """
    principal, counted = await asyncio.gather(resolve_principal(), count_ip(), return_exceptions=True)
    if isinstance(counted, BaseException):
        raise counted
    if isinstance(principal, BaseException):
        raise principal
    await current_app.extensions["runtime"].limiter.hit("api_user", str(principal.user_id))
    return principal


def _admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only an organization admin can do this")


def _superadmin(principal: Principal) -> None:
    if not principal.is_superadmin:
        raise Forbidden("Only a platform superadmin can do this")


require_user = _guard(None)
require_admin = _guard(_admin)
require_superadmin = _guard(_superadmin)


def current_principal() -> Principal:
    """The principal of this request (routes only)."""
    principal: Principal = g.principal
    return principal

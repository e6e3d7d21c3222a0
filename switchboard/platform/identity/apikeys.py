"""API keys: created with the raw key shown once, listed by prefix, revoked at once."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, NotFound
from switchboard.platform.identity.models import ApiKey
from switchboard.platform.ids import parse_id
from switchboard.platform.security import new_api_key


async def create_key(principal: Principal, name: str) -> tuple[ApiKey, str]:
    """A new key for the caller in their active org, and its raw value (never stored)."""
    raw, prefix, key_hash = new_api_key()
    key = await ApiKey.create(
        user_id=principal.user_id, org_id=principal.org_id, name=name.strip(), prefix=prefix, key_hash=key_hash
    )
    await audit.record(
        "api_key.created",
        actor=principal,
        target_type="api_key",
        target_id=key.id,
        details={"name": key.name, "prefix": prefix},
    )
    return key, raw


async def list_keys(principal: Principal) -> list[ApiKey]:
    """The caller's keys, newest first."""
    return await ApiKey.filter(user_id=principal.user_id).order_by("-created_at")


async def set_disabled(principal: Principal, key_id: str, disabled: bool) -> ApiKey:
    """Disable one of the caller's keys (refused until enabled again) or enable it; a revoked key stays revoked."""
    key = await ApiKey.get_or_none(id=parse_id(key_id, "API key"), user_id=principal.user_id)
    if key is None:
        raise NotFound("API key not found")
    if key.revoked_at is not None:
        raise Conflict("This API key is revoked", code="api_key_revoked")
    if (key.disabled_at is not None) != disabled:
        key.disabled_at = datetime.now(UTC) if disabled else None
        await key.save(update_fields=["disabled_at"])
        await audit.record(
            "api_key.disabled" if disabled else "api_key.enabled",
            actor=principal,
            target_type="api_key",
            target_id=key.id,
            details={"prefix": key.prefix},
        )
    return key


async def revoke_key(principal: Principal, key_id: str) -> None:
    """Revoke one of the caller's keys; it stops working on the next request."""
    key = await ApiKey.get_or_none(id=parse_id(key_id, "API key"), user_id=principal.user_id)
    if key is None:
        raise NotFound("API key not found")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await key.save(update_fields=["revoked_at"])
    await audit.record(
        "api_key.revoked", actor=principal, target_type="api_key", target_id=key.id, details={"prefix": key.prefix}
    )

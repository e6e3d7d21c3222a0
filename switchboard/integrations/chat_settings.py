"""Chat integration settings (which channel reaches which agent) and user mappings (provider account -> user)."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.exceptions import IntegrityError

from switchboard.integrations.catalog import connector
from switchboard.integrations.errors import ConnectionNotFound
from switchboard.integrations.models import ChatSetting, UserMapping
from switchboard.platform.audit.service import record
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from switchboard.platform.ids import parse_id
from switchboard.platform.orgs.models import Membership


async def chat_settings(principal: Principal, service: str) -> ChatSetting:
    """The org's settings for a chat service (defaults when none were saved)."""
    connector(service)
    found = await ChatSetting.get_or_none(org_id=principal.org_id, service=service)
    return found or ChatSetting(org_id=principal.org_id, service=service)


async def save_chat_settings(
    principal: Principal, service: str, *, enabled: bool, default_agent: str | None, channels: dict[str, str]
) -> ChatSetting:
    """Replace the org's settings for a chat service (admins)."""
    connector(service)
    if not principal.is_admin:
        raise Forbidden("Only an organization admin can change chat integration settings")
    values: dict[str, Any] = {"enabled": enabled, "default_agent": default_agent, "channels": channels}
    row = await ChatSetting.get_or_none(org_id=principal.org_id, service=service)
    if row is None:
        try:
            row = await ChatSetting.create(org_id=principal.org_id, service=service, **values)
        except IntegrityError:
            row = await ChatSetting.get(org_id=principal.org_id, service=service)
    await ChatSetting.filter(id=row.id).update(**values)
    await row.refresh_from_db()
    await record("integration.chat_settings_saved", actor=principal, target_type="chat_settings", target_id=service)
    return row


async def list_mappings(
    principal: Principal, *, service: str | None, limit: int, offset: int
) -> tuple[list[UserMapping], int]:
    """The org's mappings (a member sees their own)."""
    query = UserMapping.filter(org_id=principal.org_id)
    if not principal.is_admin:
        query = query.filter(user_id=principal.user_id)
    if service:
        query = query.filter(service=service)
    return await query.order_by("created_at").offset(offset).limit(limit), await query.count()


async def create_mapping(
    principal: Principal, *, service: str, external_id: str, external_name: str, user_id: str | None
) -> UserMapping:
    """Map a provider account to a user of the org (admins only: whoever holds a mapping acts as that user
    when the account writes in, and a member could otherwise claim a colleague's account)."""
    connector(service)
    if not principal.is_admin:
        raise Forbidden("Only an organization admin can say which account is whose")
    target = principal.user_id if user_id is None else _user_id(user_id)
    if not await Membership.filter(org_id=principal.org_id, user_id=target).exists():
        raise ValidationFailed("No such member", details=[{"field": "user_id", "message": "not a member of the org"}])
    try:
        row = await UserMapping.create(
            org_id=principal.org_id,
            service=service,
            external_id=external_id,
            external_name=external_name,
            user_id=target,
        )
    except IntegrityError:
        raise Conflict("This account is already mapped", code="mapping_exists") from None
    await record("integration.user_mapped", actor=principal, target_type="user_mapping", target_id=row.id)
    return row


async def delete_mapping(principal: Principal, mapping_id: str) -> None:
    """Remove a mapping of the org (a member: only their own); another org's is 404."""
    query = UserMapping.filter(org_id=principal.org_id, id=parse_id(mapping_id, "Mapping"))
    if not principal.is_admin:
        query = query.filter(user_id=principal.user_id)
    if not await query.delete():
        raise ConnectionNotFound("Mapping not found")
    await record("integration.user_unmapped", actor=principal, target_type="user_mapping", target_id=mapping_id)


def _user_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("User not found") from None

"""Recording and reading the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.functions import Count

from switchboard.platform.audit.models import CORRELATION_ID_LENGTH, AuditLog
from switchboard.platform.auth import Principal
from switchboard.platform.errors import NotFound
from switchboard.platform.ids import parse_id
from switchboard.platform.logs import correlation_id


async def record(
    action: str,
    *,
    actor: Principal | None = None,
    org_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    actor_email: str | None = None,
    target_type: str | None = None,
    target_id: Any = None,
    outcome: str = "success",
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one entry; the correlation id of the current request is attached."""
    return await AuditLog.create(
        org_id=org_id or (actor.org_id if actor else None),
        actor_id=actor_id or (actor.user_id if actor else None),
        actor_email=actor_email or (actor.email if actor else None),
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        outcome=outcome,
        ip=ip or (actor.ip if actor else None),
        correlation_id=correlation_id.get(),
        details=details or {},
    )


async def list_for_org(
    principal: Principal,
    *,
    limit: int,
    offset: int,
    action: str | None = None,
    actor_id: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditLog], int]:
    """The org's entries, newest first, filtered."""
    query = AuditLog.filter(org_id=principal.org_id)
    if action:
        query = query.filter(action=action)
    if actor_id:
        query = query.filter(actor_id=actor_id)
    if outcome:
        query = query.filter(outcome=outcome)
    if since:
        query = query.filter(created_at__gte=since)
    if until:
        query = query.filter(created_at__lt=until)
    return await query.order_by("-created_at").offset(offset).limit(limit), await query.count()


async def get_for_org(principal: Principal, entry_id: str) -> AuditLog:
    """One entry of the org, or NotFound."""
    entry = await AuditLog.get_or_none(id=parse_id(entry_id, "Audit entry"), org_id=principal.org_id)
    if entry is None:
        raise NotFound("Audit entry not found")
    return entry


async def by_correlation(principal: Principal, cid: str) -> list[AuditLog]:
    """The org's entries written while serving one request."""
    if len(cid) > CORRELATION_ID_LENGTH:  # longer than any id we keep: it names nothing
        return []
    return await AuditLog.filter(org_id=principal.org_id, correlation_id=cid).order_by("created_at")


async def stats(principal: Principal, days: int = 30) -> dict[str, Any]:
    """Counts by action and outcome over the last `days` days."""
    since = datetime.now(UTC) - timedelta(days=days)
    rows = (
        await AuditLog.filter(org_id=principal.org_id, created_at__gte=since)
        .annotate(n=Count("id"))
        .group_by("action", "outcome")
        .values("action", "outcome", "n")
    )
    by_action: dict[str, dict[str, int]] = {}
    for row in rows:
        by_action.setdefault(row["action"], {})[row["outcome"]] = row["n"]
    return {"days": days, "total": sum(r["n"] for r in rows), "by_action": by_action}


async def list_mine(principal: Principal, *, limit: int, offset: int) -> tuple[list[AuditLog], int]:
    """What the caller did, newest first."""
    query = AuditLog.filter(actor_id=principal.user_id)
    return await query.order_by("-created_at").offset(offset).limit(limit), await query.count()


async def purge_older_than(days: int) -> int:
    """Delete entries older than the retention window; returns how many."""
    return await AuditLog.filter(created_at__lt=datetime.now(UTC) - timedelta(days=days)).delete()

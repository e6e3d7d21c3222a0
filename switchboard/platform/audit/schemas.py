"""Shapes of the audit routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from switchboard.platform.pagination import PageQuery


class AuditQuery(PageQuery):
    """Filters of the audit list."""

    action: str | None = Field(None, max_length=64)
    actor_id: UUID | None = None
    outcome: str | None = Field(None, max_length=16)
    since: datetime | None = None
    until: datetime | None = None


class AuditOut(BaseModel):
    """One audited action."""

    id: UUID
    org_id: UUID | None
    actor_id: UUID | None
    actor_email: str | None
    action: str
    target_type: str | None
    target_id: str | None
    outcome: str
    ip: str | None
    correlation_id: str | None
    details: dict[str, Any]
    created_at: datetime


class AuditStats(BaseModel):
    """Counts by action and outcome."""

    days: int
    total: int
    by_action: dict[str, dict[str, int]]

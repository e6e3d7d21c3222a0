"""Shapes of the audit routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class AuditQuery(BaseModel):
    """Filters of the audit list."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)
    action: str | None = None
    actor_id: UUID | None = None
    outcome: str | None = None
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

"""Request and response shapes of the system routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel


class Health(BaseModel):
    """Whether each dependency answers."""

    status: str
    db: bool
    queue: bool
    events: bool
    version: str


class Readiness(Health):
    """Health plus migrations."""

    ready: bool
    pending_migrations: list[str]


class SystemCheckOut(BaseModel):
    """A self-check and its results."""

    id: UUID
    status: str
    results: dict[str, Any]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class ProgressState(BaseModel):
    """The events of a task, as JSON."""

    task_id: str
    status: str
    events: list[dict[str, Any]]

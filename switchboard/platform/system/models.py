"""Stored state of system self-checks."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class SystemCheck(Model):
    """One run of the self-check job: proves a worker picks up jobs and every dependency answers."""

    id = fields.UUIDField(primary_key=True)
    status = fields.CharField(max_length=16, default="pending")  # pending|processing|completed|failed
    results: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    error: str | None = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "system_checks"

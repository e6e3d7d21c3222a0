"""The audit log: who did what, to what, from where, with what outcome."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

CORRELATION_ID_LENGTH = 128


class AuditLog(Model):
    """One audited action."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(null=True, db_index=True)
    actor_id = fields.UUIDField(null=True, db_index=True)
    actor_email = fields.CharField(max_length=320, null=True)
    action = fields.CharField(max_length=64, db_index=True)
    target_type = fields.CharField(max_length=64, null=True)
    target_id = fields.CharField(max_length=64, null=True)
    outcome = fields.CharField(max_length=16, default="success")
    ip = fields.CharField(max_length=64, null=True)
    correlation_id = fields.CharField(max_length=CORRELATION_ID_LENGTH, null=True, db_index=True)
    details: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_logs"

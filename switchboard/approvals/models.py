"""Approvals waiting for people, and each person's decision (the `approvals` app)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

KINDS = ("tool_call", "workflow_step")
MODES = ("any", "all", "quorum")
FINAL_STATUSES = ("approved", "rejected", "expired")


class Approval(Model):
    """A yes or no that a chat task or a workflow run waits for, and who may give it."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    kind = fields.CharField(max_length=16)  # tool_call | workflow_step
    # the chat task or the workflow step that waits: its context knows what to resume
    subject_id = fields.UUIDField(db_index=True)
    key = fields.CharField(max_length=200)  # one approval per tool call / step attempt of the subject
    title = fields.CharField(max_length=500)
    context: dict[str, Any] = fields.JSONField(default=dict)  # what approvers see, as it was when asked
    requested_by = fields.UUIDField(null=True)
    approvers: dict[str, list[str]] = fields.JSONField(default=dict)  # {users, groups, roles}
    mode = fields.CharField(max_length=8, default="any")  # any | all | quorum
    quorum: int | None = fields.IntField(null=True)
    required = fields.IntField(default=1)  # approvals that decide it: 1, the quorum, or every eligible person
    approvals = fields.IntField(default=0)
    allow_self_approval = fields.BooleanField(default=False)
    status = fields.CharField(max_length=16, default="pending", db_index=True)  # pending|approved|rejected|expired
    link = fields.CharField(max_length=500, default="")
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at: datetime | None = fields.DatetimeField(null=True)
    # the subject's resume handler: claimed before it is called, stamped once it returned
    resume_claimed_at: datetime | None = fields.DatetimeField(null=True)
    resumed_at: datetime | None = fields.DatetimeField(null=True)

    decisions: fields.ReverseRelation[ApprovalDecision]

    class Meta:
        table = "approval_requests"
        unique_together = (("kind", "subject_id", "key"),)


class ApprovalDecision(Model):
    """One person's approve or reject, with their comment; a person decides an approval once."""

    id = fields.UUIDField(primary_key=True)
    approval: fields.ForeignKeyRelation[Approval] = fields.ForeignKeyField(
        "approvals.Approval", related_name="decisions", on_delete=fields.CASCADE
    )
    approval_id: uuid.UUID
    user_id = fields.UUIDField()
    verdict = fields.CharField(max_length=8)  # approve | reject
    comment = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "approval_decisions"
        unique_together = (("approval", "user_id"),)

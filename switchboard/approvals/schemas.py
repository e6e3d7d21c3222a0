"""Request and response shapes of the approvals inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from switchboard.approvals.models import Approval
from switchboard.platform.query import QueryArgs

Kind = Literal["tool_call", "workflow_step"]


class KindQuery(QueryArgs):
    """Which kind of approvals to list (both when absent)."""

    kind: Kind | None = None


class HistoryQuery(QueryArgs):
    """Which slice of the decided approvals to list."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)
    kind: Kind | None = None


class PendingCount(BaseModel):
    """How many approvals wait for the caller, in all and per kind."""

    total: int
    tool_call: int
    workflow_step: int


class DecisionIn(BaseModel):
    """An optional comment on a decision, kept with it."""

    comment: str | None = Field(None, max_length=2000)


class Approvers(BaseModel):
    """Who may decide: users and groups by id, and org roles."""

    users: list[str] = []
    groups: list[str] = []
    roles: list[str] = []


class ApprovalDecisionOut(BaseModel):
    """One person's decision."""

    user_id: UUID
    verdict: Literal["approve", "reject"]
    comment: str | None
    created_at: datetime


class ApprovalOut(BaseModel):
    """A yes or no that a chat task or a workflow run waits for.

    `agent`, `tool`, `arguments`, `summary` and `task_id` repeat a tool call's context, as the
    chat-only inbox answered them.
    """

    id: UUID
    kind: Kind
    subject_id: UUID
    title: str
    context: dict[str, Any]
    requested_by: UUID | None
    approvers: Approvers
    mode: Literal["any", "all", "quorum"]
    quorum: int | None
    required: int
    approvals: int
    allow_self_approval: bool
    status: Literal["pending", "approved", "rejected", "expired"]
    link: str
    expires_at: datetime
    created_at: datetime
    decided_at: datetime | None
    decisions: list[ApprovalDecisionOut]
    task_id: UUID | None = None
    agent: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] | None = None
    summary: str | None = None

    @classmethod
    def of(cls, approval: Approval) -> ApprovalOut:
        """The response for an approval whose decisions are fetched."""
        tool_call: dict[str, Any] = {}
        if approval.kind == "tool_call":
            ctx = approval.context
            tool_call = {
                "task_id": approval.subject_id,
                "agent": ctx.get("agent"),
                "tool": ctx.get("tool"),
                "arguments": ctx.get("arguments") or {},
                "summary": ctx.get("summary") or "",
            }
        decisions = sorted(approval.decisions, key=lambda d: d.created_at)
        return cls(
            id=approval.id,
            kind=approval.kind,
            subject_id=approval.subject_id,
            title=approval.title,
            context=approval.context,
            requested_by=approval.requested_by,
            approvers=Approvers(**approval.approvers),
            mode=approval.mode,
            quorum=approval.quorum,
            required=approval.required,
            approvals=approval.approvals,
            allow_self_approval=approval.allow_self_approval,
            status=approval.status,
            link=approval.link,
            expires_at=approval.expires_at,
            created_at=approval.created_at,
            decided_at=approval.decided_at,
            decisions=[ApprovalDecisionOut.model_validate(d, from_attributes=True) for d in decisions],
            **tool_call,
        )


class ApprovalPage(BaseModel):
    """A slice of the decided approvals and how many there are."""

    items: list[ApprovalOut]
    total: int
    limit: int
    offset: int

"""`/api/v1/approvals/…` (the one inbox, both kinds) and `/api/v1/workflows/approvals/…` (workflow steps)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.approvals import service
from switchboard.approvals.schemas import ApprovalOut, ApprovalPage, DecisionIn, HistoryQuery, KindQuery, PendingCount
from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.web import runtime

approvals = Blueprint("approvals", __name__, url_prefix="/api/v1/approvals")
workflow_approvals = Blueprint("workflow_approvals", __name__, url_prefix="/api/v1/workflows/approvals")

WORKFLOW_STEP = "workflow_step"


@approvals.get("/pending")
@require_user
@validate_querystring(KindQuery)
@validate_response(list[ApprovalOut])
async def pending(query_args: KindQuery) -> list[ApprovalOut]:
    """Tool confirmations and workflow approvals the caller may decide now, oldest first."""
    return [ApprovalOut.of(a) for a in await service.pending(current_principal(), query_args.kind)]


@approvals.get("/pending/count")
@require_user
@validate_response(PendingCount)
async def pending_count() -> PendingCount:
    """How many approvals wait for the caller (a badge's number), in all and per kind."""
    counts = await service.pending_count(current_principal())
    return PendingCount(total=sum(counts.values()), **counts)


@approvals.get("/history")
@require_user
@validate_querystring(HistoryQuery)
@validate_response(ApprovalPage)
async def history(query_args: HistoryQuery) -> ApprovalPage:
    """Decided approvals the caller could decide or asked for, newest first."""
    found, total = await service.history(
        current_principal(), query_args.kind, limit=query_args.limit, offset=query_args.offset
    )
    return ApprovalPage(
        items=[ApprovalOut.of(a) for a in found], total=total, limit=query_args.limit, offset=query_args.offset
    )


@approvals.get("/<approval_id>")
@require_user
@validate_response(ApprovalOut)
async def get_approval(approval_id: str) -> ApprovalOut:
    """One approval, with its decisions."""
    return await _one(approval_id, None)


@approvals.post("/<approval_id>/approve")
@require_user
@validate_request(DecisionIn)
@validate_response(ApprovalOut)
async def approve(approval_id: str, data: DecisionIn) -> ApprovalOut:
    """Approve; when that decides it, the task or run continues."""
    return await _decide(approval_id, True, data, None)


@approvals.post("/<approval_id>/reject")
@require_user
@validate_request(DecisionIn)
@validate_response(ApprovalOut)
async def reject(approval_id: str, data: DecisionIn) -> ApprovalOut:
    """Reject; the task goes on without the call, the run follows its `rejected` branch or fails."""
    return await _decide(approval_id, False, data, None)


@workflow_approvals.get("/pending")
@require_user
@validate_response(list[ApprovalOut])
async def workflow_pending() -> list[ApprovalOut]:
    """Workflow approvals the caller may decide now, oldest first."""
    return [ApprovalOut.of(a) for a in await service.pending(current_principal(), WORKFLOW_STEP)]


@workflow_approvals.get("/<approval_id>")
@require_user
@validate_response(ApprovalOut)
async def workflow_approval(approval_id: str) -> ApprovalOut:
    """One workflow approval, with its decisions."""
    return await _one(approval_id, WORKFLOW_STEP)


@workflow_approvals.post("/<approval_id>/approve")
@require_user
@validate_request(DecisionIn)
@validate_response(ApprovalOut)
async def workflow_approve(approval_id: str, data: DecisionIn) -> ApprovalOut:
    """Approve a workflow step; when that decides it, the run continues after the node."""
    return await _decide(approval_id, True, data, WORKFLOW_STEP)


@workflow_approvals.post("/<approval_id>/reject")
@require_user
@validate_request(DecisionIn)
@validate_response(ApprovalOut)
async def workflow_reject(approval_id: str, data: DecisionIn) -> ApprovalOut:
    """Reject a workflow step: the run follows the `rejected` edge, or fails with the comment."""
    return await _decide(approval_id, False, data, WORKFLOW_STEP)


async def _one(approval_id: str, kind: str | None) -> ApprovalOut:
    approval = await service.get(current_principal(), approval_id, kind=kind)
    await approval.fetch_related("decisions")
    return ApprovalOut.of(approval)


async def _decide(approval_id: str, approve: bool, data: DecisionIn, kind: str | None) -> ApprovalOut:
    decided = await service.decide(
        current_principal(), approval_id, approve, data.comment, runtime=runtime(), kind=kind
    )
    return ApprovalOut.of(decided)

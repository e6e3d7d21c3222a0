"""The approvals inbox: a task that needs a person's yes or no waits here; the decision resumes it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.chat.models import Approval, ChatTask
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, NotFound
from switchboard.platform.events import EventLog
from switchboard.platform.ids import parse_id
from switchboard.platform.queue import Queue

DEFAULT_TIMEOUT = timedelta(minutes=30)


def _stream(task_id: uuid.UUID) -> str:
    return f"chat:{task_id}"


async def request_approval(
    task: ChatTask,
    *,
    call_id: str,
    agent: str,
    tool: str,
    arguments: dict[str, Any],
    summary: str,
    expires_in: timedelta = DEFAULT_TIMEOUT,
) -> Approval:
    """The approval for one tool call of a task (the same one again when the job runs twice)."""
    approval, _ = await Approval.get_or_create(
        task_id=task.id,
        call_id=call_id,
        defaults={
            "org_id": task.org_id,
            "user_id": task.user_id,
            "agent": agent,
            "tool": tool,
            "arguments": arguments,
            "summary": summary,
            "expires_at": datetime.now(UTC) + expires_in,
        },
    )
    return approval


async def pending(principal: Principal) -> list[Approval]:
    """Approvals waiting for the caller."""
    return await Approval.filter(
        user_id=principal.user_id, org_id=principal.org_id, status="pending", expires_at__gt=datetime.now(UTC)
    ).order_by("created_at")


async def get(principal: Principal, approval_id: str) -> Approval:
    """One of the caller's approvals, or NotFound."""
    approval = await Approval.get_or_none(
        id=parse_id(approval_id, "Approval"), user_id=principal.user_id, org_id=principal.org_id
    )
    if approval is None:
        raise NotFound("Approval not found")
    return approval


async def decide(principal: Principal, approval_id: str, approve: bool, *, events: EventLog, queue: Queue) -> Approval:
    """Approve or reject; the task resumes in a worker. A decided or expired approval is a 409."""
    approval = await get(principal, approval_id)
    status = "approved" if approve else "rejected"
    now = datetime.now(UTC)
    changed = await Approval.filter(id=approval.id, status="pending", expires_at__gt=now).update(
        status=status, decided_by=principal.user_id, decided_at=now
    )
    if not changed:
        await approval.refresh_from_db()
        raise Conflict(
            f"This approval is already {approval.status if approval.status != 'pending' else 'expired'}",
            code="approval_decided",
        )
    await approval.refresh_from_db()
    await audit.record(
        f"approval.{status}",
        actor=principal,
        target_type="approval",
        target_id=approval.id,
        details={"tool": approval.tool, "task_id": str(approval.task_id)},
    )
    await _resume(approval, events, queue)
    return approval


async def _resume(approval: Approval, events: EventLog, queue: Queue) -> None:
    await events.append(
        _stream(approval.task_id),
        "approval_resolved",
        f"{approval.tool} {approval.status}",
        approval_id=str(approval.id),
        tool=approval.tool,
        agent=approval.agent,
        data={"status": approval.status},
    )
    await queue.enqueue("run_chat_task", str(approval.task_id), job_id=f"chat:{approval.task_id}:{approval.id}")


async def expire_overdue(events: EventLog, queue: Queue) -> int:
    """Expire approvals past their deadline (treated as a refusal) and resume their tasks."""
    now = datetime.now(UTC)
    overdue = await Approval.filter(status="pending", expires_at__lte=now)
    for approval in overdue:
        if await Approval.filter(id=approval.id, status="pending").update(status="expired", decided_at=now):
            await approval.refresh_from_db()
            await _resume(approval, events, queue)
    return len(overdue)


async def expire_for_task(task_id: uuid.UUID) -> None:
    """A cancelled task's open approvals are void."""
    await Approval.filter(task_id=task_id, status="pending").update(status="expired", decided_at=datetime.now(UTC))

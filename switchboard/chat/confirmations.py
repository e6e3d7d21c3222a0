"""Chat's tool confirmations, kept in the approvals inbox: ask, read the decisions, resume the task."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.approvals import Approval, register_resume_handler, request_approval, void_for_subject
from switchboard.chat.models import ChatTask
from switchboard.chat.service import task_audience, task_stream
from switchboard.platform.runtime import Runtime

KIND = "tool_call"
DEFAULT_TIMEOUT = timedelta(minutes=30)


async def request(
    task: ChatTask,
    *,
    call_id: str,
    agent: str,
    tool: str,
    arguments: dict[str, Any],
    summary: str,
    expires_in: timedelta = DEFAULT_TIMEOUT,
) -> Approval:
    """The confirmation of one tool call of a task (the same one again when the job runs twice).

    The person who asked the question decides their own tool calls.
    """
    return await request_approval(
        org_id=task.org_id,
        kind=KIND,
        subject_id=task.id,
        key=call_id,
        title=f"{agent} wants to run {tool}",
        context={
            "agent": agent,
            "tool": tool,
            "arguments": arguments,
            "summary": summary,
            "task_id": str(task.id),
            "conversation_id": str(task.conversation_id),
        },
        requested_by=task.user_id,
        approvers={"users": [str(task.user_id)]},
        allow_self_approval=True,
        expires_at=datetime.now(UTC) + expires_in,
        link=f"/chat?c={task.conversation_id}",
    )


async def decisions(approval_ids: dict[str, str]) -> dict[str, bool]:
    """Call id -> approved, for the calls already decided (an expired one is a refusal)."""
    by_id = {str(a.id): a for a in await Approval.filter(id__in=list(approval_ids.values()))}
    return {
        call_id: by_id[approval_id].status == "approved"
        for call_id, approval_id in approval_ids.items()
        if approval_id in by_id and by_id[approval_id].status != "pending"
    }


async def resume_task(approval: Approval, runtime: Runtime) -> None:
    """A decided confirmation: tell the task's stream, and queue the task to go on (once per approval)."""
    task_id = approval.subject_id
    await runtime.events.append(
        task_stream(task_id),
        "approval_resolved",
        f"{approval.context.get('tool')} {approval.status}",
        audience=task_audience(approval.org_id, approval.requested_by) if approval.requested_by else None,
        approval_id=str(approval.id),
        tool=approval.context.get("tool"),
        agent=approval.context.get("agent"),
        data={"status": approval.status},
    )
    await runtime.queue.enqueue("run_chat_task", str(task_id), job_id=f"chat:{task_id}:{approval.id}")


def register() -> None:
    """Let the inbox resume chat tasks (called at start-up)."""
    register_resume_handler(KIND, resume_task)


async def void_for_task(task_id: uuid.UUID, runtime: Runtime) -> None:
    """A cancelled task's open confirmations are void."""
    await void_for_subject(KIND, task_id, runtime)

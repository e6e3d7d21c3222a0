"""Resuming what an approval held: the handler each context registers for its kind.

The inbox imports neither chat nor workflows; they register a handler at start-up (from their
plugin's `open_resources`), the way contexts register agents. A handler is called once an approval
is final (approved, rejected, expired), after the commit that made it final, in the process that
made it so. It is claimed first by a conditional update, so two processes never both call it;
when the caller dies between the claim and the handler's return, the sweep calls it again after
`RESUME_RETRY`: across crashes a handler may run twice, so it must be idempotent (enqueue with a
job id, move its rows by conditional updates).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from switchboard.approvals import live
from switchboard.approvals.models import FINAL_STATUSES, Approval
from switchboard.platform.runtime import Runtime

log = logging.getLogger(__name__)

ResumeHandler = Callable[[Approval, Runtime], Awaitable[None]]
RESUME_RETRY = timedelta(seconds=30)

_handlers: dict[str, ResumeHandler] = {}


def register_resume_handler(kind: str, handler: ResumeHandler) -> None:
    """Call `handler(approval, runtime)` when an approval of `kind` is approved, rejected or expires."""
    _handlers[kind] = handler


async def resume(approval: Approval, runtime: Runtime) -> bool:
    """Hand a final approval to its kind's handler, unless another process has it; True when called."""
    now = datetime.now(UTC)
    claimed = (
        await Approval.filter(id=approval.id, status__in=FINAL_STATUSES, resumed_at=None)
        .filter(Q(resume_claimed_at=None) | Q(resume_claimed_at__lt=now - RESUME_RETRY))
        .update(resume_claimed_at=now)
    )
    if not claimed:
        return False
    handler = _handlers.get(approval.kind)
    if handler is None:
        # a process without that context (never in one product process): the sweep tries again
        log.warning("no resume handler for %s here; approval %s waits for the sweep", approval.kind, approval.id)
        return False
    try:
        await handler(approval, runtime)
    except Exception:
        # the decision stands; the sweep calls the handler again after RESUME_RETRY
        log.exception("resuming after approval %s failed; retried in %ss", approval.id, RESUME_RETRY.seconds)
        return False
    await Approval.filter(id=approval.id).update(resumed_at=datetime.now(UTC))
    return True


async def expire_overdue(runtime: Runtime) -> int:
    """Expire pending approvals past their deadline and resume their subjects (chat: a refusal;
    workflows: the step's `on_timeout`); also resume final approvals whose resume was lost."""
    now = datetime.now(UTC)
    expired = 0
    for approval in await Approval.filter(status="pending", expires_at__lte=now):
        if await Approval.filter(id=approval.id, status="pending").update(status="expired", decided_at=now):
            expired += 1
            await approval.refresh_from_db()
            await resume(approval, runtime)
            await live.announce(runtime, approval, "approval_decided")
    lost = await Approval.filter(status__in=FINAL_STATUSES, resumed_at=None).filter(
        Q(resume_claimed_at=None, decided_at__lt=now - RESUME_RETRY) | Q(resume_claimed_at__lt=now - RESUME_RETRY)
    )
    for approval in lost:
        await resume(approval, runtime)
    return expired


async def void_for_subject(kind: str, subject_id: uuid.UUID, runtime: Runtime) -> int:
    """A cancelled subject's open approvals expire without resuming it (nothing waits any more); their
    approvers' inboxes are told."""
    voided = 0
    for approval in await Approval.filter(kind=kind, subject_id=subject_id, status="pending"):
        now = datetime.now(UTC)
        if await Approval.filter(id=approval.id, status="pending").update(
            status="expired", decided_at=now, resume_claimed_at=now, resumed_at=now
        ):
            voided += 1
            approval.status, approval.decided_at = "expired", now
            await live.announce(runtime, approval, "approval_decided")
    return voided

"""Asking for an approval, finding the ones a person may decide, and deciding them.

Rules (also in the README):
- `any` is decided by one approve, `quorum` by N approves, `all` by an approve from every person
  the approvers named when it was asked; a reject by any approver rejects at once, in every mode.
- A person decides an approval once; the requester may not decide it unless it allows self-approval.
- Decisions are conditional updates of the approval's row, so two people (or two clicks) deciding
  at once cannot both win: the second gets 409 `approval_decided`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from switchboard.approvals import approvers as people
from switchboard.approvals import live
from switchboard.approvals.models import FINAL_STATUSES, KINDS, MODES, Approval, ApprovalDecision
from switchboard.approvals.resume import resume
from switchboard.platform import links
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from switchboard.platform.ids import parse_id
from switchboard.platform.runtime import Runtime

log = logging.getLogger(__name__)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "message": message}])


def _required(mode: str, quorum: int | None, eligible: int) -> int:
    if mode not in MODES:
        raise _invalid("mode", f"mode must be one of {', '.join(MODES)}")
    if eligible == 0:
        raise _invalid("approvers", "The approvers name nobody in the org who may decide")
    if mode == "any":
        return 1
    if mode == "all":
        return eligible
    if quorum is None or quorum < 1:
        raise _invalid("quorum", "A quorum approval needs a quorum of at least 1")
    if quorum > eligible:
        raise _invalid("quorum", f"A quorum of {quorum} is more than the {eligible} people who may decide")
    return quorum


async def request_approval(
    *,
    org_id: uuid.UUID,
    kind: str,
    subject_id: uuid.UUID,
    key: str,
    title: str,
    context: dict[str, Any],
    requested_by: uuid.UUID | None,
    approvers: dict[str, Any],
    mode: str = "any",
    quorum: int | None = None,
    allow_self_approval: bool = False,
    expires_at: datetime,
    link: str = "",
    runtime: Runtime | None = None,
) -> Approval:
    """The approval for one tool call or step of a subject (the same row when asked again).

    With `runtime`, each approver is mailed the title and a link the first time it is asked.
    Raises ValidationFailed when the approvers name nobody who may decide, or fewer than the quorum.
    """
    if kind not in KINDS:
        raise _invalid("kind", f"kind must be one of {', '.join(KINDS)}")
    existing = await Approval.get_or_none(kind=kind, subject_id=subject_id, key=key)
    if existing is not None:
        return existing
    listed = people.normalise(approvers)
    eligible = [e for e in await people.resolve(org_id, listed) if allow_self_approval or e.user_id != requested_by]
    required = _required(mode, quorum, len(eligible))
    try:
        approval = await Approval.create(
            org_id=org_id,
            kind=kind,
            subject_id=subject_id,
            key=key,
            title=title[:500],
            context=context,
            requested_by=requested_by,
            approvers=listed,
            mode=mode,
            quorum=quorum if mode == "quorum" else None,
            required=required,
            allow_self_approval=allow_self_approval,
            expires_at=expires_at,
            link=link,
        )
    except IntegrityError:  # asked twice at once: the other ask made it
        return await Approval.get(kind=kind, subject_id=subject_id, key=key)
    if runtime is not None:
        await _notify(runtime, approval, eligible)
        await live.announce(runtime, approval, "approval_requested", [e.user_id for e in eligible])
    return approval


async def _notify(runtime: Runtime, approval: Approval, eligible: list[people.Eligible]) -> None:
    """Mail each approver; the mailer keeps what it cannot send in the outbox, so none is lost."""
    body = (
        f"{approval.title}\n\nYour decision is needed by {approval.expires_at:%Y-%m-%d %H:%M} UTC.\n"
        f"Open the inbox: {links.app_url(runtime.settings, '/approvals')}\n"
        + (f"See what waits: {links.app_url(runtime.settings, approval.link)}\n" if approval.link else "")
    )
    for person in eligible:
        await runtime.mailer.send(person.email, f"Approval needed: {approval.title}", body)


def _visible(approval: Approval, principal: Principal) -> bool:
    return (
        approval.requested_by == principal.user_id
        or people.may_decide(approval, principal)
        or (approval.kind == "workflow_step" and principal.is_admin)
    )


async def get(principal: Principal, approval_id: str | uuid.UUID, *, kind: str | None = None) -> Approval:
    """An approval of the caller's org that the caller asked for or may decide (admins see workflow ones)."""
    approval = await Approval.get_or_none(id=parse_id(approval_id, "Approval"), org_id=principal.org_id)
    decided = approval is not None and await ApprovalDecision.exists(approval_id=approval.id, user_id=principal.user_id)
    if approval is None or (kind and approval.kind != kind) or not (decided or _visible(approval, principal)):
        raise NotFound("Approval not found")
    return approval


# "the caller may decide": listed by user id, by one of their groups, or by their role in the org
_PENDING = """
SELECT a.id, a.kind FROM approval_requests a
WHERE a.org_id = $1 AND ($2::text IS NULL OR a.kind = $2)
  AND (jsonb_exists(a.approvers->'users', $3) OR jsonb_exists_any(a.approvers->'groups', $4::text[])
       OR jsonb_exists(a.approvers->'roles', $5))
  AND a.status = 'pending' AND a.expires_at > now()
  AND (a.allow_self_approval OR a.requested_by IS DISTINCT FROM $6::uuid)
  AND NOT EXISTS (SELECT 1 FROM approval_decisions d WHERE d.approval_id = a.id AND d.user_id = $6::uuid)
"""

# decided ones the caller could decide, or asked for
_HISTORY = """
SELECT a.id, count(*) OVER () AS total FROM approval_requests a
WHERE a.org_id = $1 AND ($2::text IS NULL OR a.kind = $2) AND a.status <> 'pending'
  AND (jsonb_exists(a.approvers->'users', $3) OR jsonb_exists_any(a.approvers->'groups', $4::text[])
       OR jsonb_exists(a.approvers->'roles', $5) OR a.requested_by = $6::uuid)
ORDER BY coalesce(a.decided_at, a.created_at) DESC, a.id
LIMIT $7 OFFSET $8
"""


def _args(principal: Principal, kind: str | None) -> list[Any]:
    groups = [str(g) for g in principal.group_ids]
    return [principal.org_id, kind, str(principal.user_id), groups, principal.role, principal.user_id]


async def pending(principal: Principal, kind: str | None = None) -> list[Approval]:
    """Approvals the caller may decide now and has not decided yet, oldest first."""
    conn = Approval._meta.db
    rows = await conn.execute_query_dict(_PENDING, _args(principal, kind))
    ids = [row["id"] for row in rows]
    return await Approval.filter(id__in=ids).order_by("created_at").prefetch_related("decisions") if ids else []


async def pending_count(principal: Principal) -> dict[str, int]:
    """How many approvals wait for the caller, per kind (for a badge: no approval is read whole)."""
    rows = await Approval._meta.db.execute_query_dict(_PENDING, _args(principal, None))
    counts = dict.fromkeys(KINDS, 0)
    for row in rows:
        counts[row["kind"]] += 1
    return counts


async def history(
    principal: Principal, kind: str | None = None, *, limit: int = 50, offset: int = 0
) -> tuple[list[Approval], int]:
    """Decided approvals the caller could decide or asked for, newest decision first, and their count."""
    rows = await Approval._meta.db.execute_query_dict(_HISTORY, [*_args(principal, kind), limit, offset])
    total = rows[0]["total"] if rows else await _count_history(principal, kind)
    ids = [row["id"] for row in rows]
    found = {a.id: a for a in await Approval.filter(id__in=ids).prefetch_related("decisions")} if ids else {}
    return [found[i] for i in ids if i in found], total


async def _count_history(principal: Principal, kind: str | None) -> int:
    """The total when the page asked for is past the end (no row carries it)."""
    rows = await Approval._meta.db.execute_query_dict(_HISTORY, [*_args(principal, kind), None, 0])
    return len(rows)


# One decision, counted on the row: the WHERE re-checks the status after any concurrent decision
# committed, so only one of two racing decisions can move the approval out of `pending`.
_COUNT_DECISION = """
UPDATE approval_requests SET
    approvals = approvals + $2,
    status = CASE WHEN $3 THEN 'rejected' WHEN approvals + $2 >= required THEN 'approved' ELSE 'pending' END,
    decided_at = CASE WHEN $3 OR approvals + $2 >= required THEN now() ELSE NULL END
WHERE id = $1 AND status = 'pending' AND expires_at > now()
RETURNING status, approvals, decided_at
"""


def _already(approval: Approval) -> Conflict:
    status = approval.status if approval.status in FINAL_STATUSES else "expired"
    return Conflict(f"This approval is already {status}", code="approval_decided")


async def decide(
    principal: Principal,
    approval_id: str | uuid.UUID,
    approve: bool,
    comment: str | None = None,
    *,
    runtime: Runtime,
    kind: str | None = None,
) -> Approval:
    """Record the caller's approve or reject; when that decides the approval, its subject resumes.

    403 `self_approval` for the requester (unless allowed), 403 `not_an_approver` for other members,
    409 `approval_decided` when it was already decided, expired, or decided by the caller before.
    """
    approval = await Approval.get_or_none(id=parse_id(approval_id, "Approval"), org_id=principal.org_id)
    if approval is None or (kind and approval.kind != kind):
        raise NotFound("Approval not found")
    if approval.requested_by == principal.user_id and not approval.allow_self_approval:
        raise Forbidden("You asked for this approval; someone else must decide it", code="self_approval")
    if not people.may_decide(approval, principal):
        raise Forbidden("You are not one of this approval's approvers", code="not_an_approver")
    verdict = "approve" if approve else "reject"
    try:
        async with in_transaction() as conn:
            await ApprovalDecision.create(
                approval_id=approval.id, user_id=principal.user_id, verdict=verdict, comment=comment, using_db=conn
            )
            counted = await conn.execute_query_dict(_COUNT_DECISION, [approval.id, int(approve), not approve])
            if not counted:
                raise _already(await Approval.get(id=approval.id, using_db=conn))
    except IntegrityError:  # the caller decided it already (perhaps a second click, at the same time)
        await approval.refresh_from_db()
        if approval.status == "pending":
            raise Conflict("You already decided this approval", code="approval_decided") from None
        raise _already(approval) from None
    approval.status, approval.approvals, approval.decided_at = (
        counted[0][k] for k in ("status", "approvals", "decided_at")
    )
    # the subject goes on first: the audit entry is not what anyone waits for
    if approval.status in FINAL_STATUSES:
        await resume(approval, runtime)
    # the other approvers' inboxes move: one fewer needed, or nothing left to decide
    await live.announce(runtime, approval, live.change_of(approval))
    await audit.record(
        "approval.approved" if approve else "approval.rejected",
        actor=principal,
        target_type="approval",
        target_id=approval.id,
        details={"kind": approval.kind, "subject_id": str(approval.subject_id), "status": approval.status},
    )
    await approval.fetch_related("decisions")
    return approval

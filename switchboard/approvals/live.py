"""Telling the people of an approval that it changed, on the org's live stream.

Its approvers and whoever asked hear of it when it is asked (`approval_requested`), when a decision is
counted and it still waits for more (`approval_updated`), and when it is final (`approval_decided`:
approved, rejected, or expired, by its deadline or because what it held was cancelled). An inbox open in
a browser moves on these, not on a poll.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from switchboard.approvals import approvers as people
from switchboard.approvals.models import FINAL_STATUSES, Approval
from switchboard.platform.events import Audience
from switchboard.platform.runtime import Runtime

log = logging.getLogger(__name__)


def change_of(approval: Approval) -> str:
    """The update type of a decision just counted: final, or still waiting for more."""
    return "approval_decided" if approval.status in FINAL_STATUSES else "approval_updated"


async def announce(
    runtime: Runtime, approval: Approval, update_type: str, users: Iterable[uuid.UUID] | None = None
) -> None:
    """Put the approval on its org's live stream for its approvers (`users`, else resolved now) and its asker.

    A notice that cannot be written is logged and dropped: what it tells of is done and stored, and an open
    inbox still reads it on its next poll.
    """
    try:
        if users is None:
            users = [person.user_id for person in await people.resolve(approval.org_id, approval.approvers)]
        audience = {str(u) for u in users} | ({str(approval.requested_by)} if approval.requested_by else set())
        await runtime.events.append(
            f"approval:{approval.id}",
            update_type,
            approval.title,
            # nobody to tell (approvers gone, no one asked): not on the org stream at all, since an Audience
            # without users is the whole org's
            audience=Audience(approval.org_id, "approval", tuple(sorted(audience))) if audience else None,
            approval_id=str(approval.id),
            status=approval.status,
            approvals=approval.approvals,
            required=approval.required,
            link=approval.link,
        )
    except Exception:
        log.warning("the live notice %s of approval %s was not sent", update_type, approval.id, exc_info=True)

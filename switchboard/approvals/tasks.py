"""arq jobs of the inbox: expire overdue approvals and resume what they held."""

from __future__ import annotations

from typing import Any

from arq import cron

from switchboard.approvals.resume import expire_overdue
from switchboard.platform.runtime import Runtime


async def expire_approvals(ctx: dict[str, Any]) -> int:
    """Expire approvals past their deadline (their subjects resume with `expired`)."""
    runtime: Runtime = ctx["runtime"]
    return await expire_overdue(runtime)


CRON = [cron(expire_approvals, second={5, 15, 25, 35, 45, 55}, unique=True, run_at_startup=True)]

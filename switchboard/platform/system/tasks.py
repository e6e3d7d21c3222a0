"""arq jobs of the system context."""

from __future__ import annotations

from typing import Any

from arq import cron

from switchboard.platform.audit import service as audit
from switchboard.platform.identity import service as identity
from switchboard.platform.system import service


async def run_system_check(ctx: dict[str, Any], check_id: str) -> None:
    """Run one self-check (safe to run twice: a finished check is left alone)."""
    runtime = ctx["runtime"]
    await service.run_check(runtime, runtime.events, check_id)


async def purge_expired(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: audit entries past retention, accounts past their deletion grace."""
    runtime = ctx["runtime"]
    return {
        "audit_entries": await audit.purge_older_than(runtime.settings.audit_retention_days),
        "accounts": await identity.purge_deleted_accounts(),
    }


JOBS = [run_system_check]
CRON = [cron(purge_expired, hour={3}, minute={17}, unique=True, run_at_startup=False)]

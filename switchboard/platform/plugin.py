"""What the platform context plugs into the app and the worker (models: `switchboard.platform.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint


def blueprints() -> list[Blueprint]:
    """The platform's blueprints."""
    from switchboard.platform.audit.routes import audit
    from switchboard.platform.identity.routes import auth, mine
    from switchboard.platform.live.routes import live
    from switchboard.platform.orgs.routes import invitations, orgs
    from switchboard.platform.system.operations import ops
    from switchboard.platform.system.routes import api as system_api
    from switchboard.platform.system.routes import root as system_root

    return [system_root, ops, system_api, auth, mine, orgs, invitations, audit, live]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """The platform's arq jobs."""
    from switchboard.platform.system import tasks

    return [*tasks.JOBS]


def cron_jobs() -> list[CronJob]:
    """The platform's periodic jobs."""
    from switchboard.platform.system import tasks

    return [*tasks.CRON]


def pruners() -> dict[str, Any]:
    """Audit entries past AUDIT_RETENTION_DAYS, accounts past their deletion grace, dead sessions."""
    from switchboard.platform.audit import service as audit
    from switchboard.platform.identity import service as identity

    async def audit_logs(settings: Any) -> int:
        return await audit.purge_older_than(settings.audit_retention_days)

    async def users(settings: Any) -> int:
        return await identity.purge_deleted_accounts()

    async def sessions(settings: Any) -> int:
        return await identity.purge_dead_sessions()

    return {"audit_logs": audit_logs, "users": users, "sessions": sessions}

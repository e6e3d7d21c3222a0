"""What the platform context plugs into the app and the worker (models: `switchboard.platform.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint


def blueprints() -> list[Blueprint]:
    """The platform's blueprints."""
    from switchboard.platform.audit.routes import audit
    from switchboard.platform.identity.routes import auth
    from switchboard.platform.orgs.routes import invitations, orgs
    from switchboard.platform.system.routes import api as system_api
    from switchboard.platform.system.routes import root as system_root

    return [system_root, system_api, auth, orgs, invitations, audit]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """The platform's arq jobs."""
    from switchboard.platform.system import tasks

    return [*tasks.JOBS]


def cron_jobs() -> list[CronJob]:
    """The platform's periodic jobs."""
    from switchboard.platform.system import tasks

    return [*tasks.CRON]

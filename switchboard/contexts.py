"""The bounded contexts that make up Switchboard, collected in one place.

`platform` knows no feature; this module is where the features are plugged in, for the
app, the worker and the migrations alike.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint

# Tortoise app label -> models module. Each label has its own migrations package.
MODEL_APPS: dict[str, str] = {
    "platform": "switchboard.platform.models",
}


def blueprints() -> list[Blueprint]:
    """Every API blueprint."""
    from switchboard.platform.audit.routes import audit
    from switchboard.platform.identity.routes import auth
    from switchboard.platform.orgs.routes import invitations, orgs
    from switchboard.platform.system.routes import api as system_api
    from switchboard.platform.system.routes import root as system_root

    return [system_root, system_api, auth, orgs, invitations, audit]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """Every arq job function."""
    from switchboard.platform.system import tasks as system_tasks

    return [*system_tasks.JOBS]


def cron_jobs() -> list[CronJob]:
    """Every periodic job."""
    from switchboard.platform.system import tasks as system_tasks

    return [*system_tasks.CRON]

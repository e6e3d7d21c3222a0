"""What the workflows context plugs into the app and the worker (models: `switchboard.workflows.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint


def blueprints() -> list[Blueprint]:
    """The workflows context's blueprints."""
    from switchboard.workflows.flow_routes import flows
    from switchboard.workflows.routes import workflows
    from switchboard.workflows.trigger_routes import triggers

    return [workflows, triggers, flows]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """The workflows context's arq jobs."""
    from switchboard.workflows import trigger_tasks

    return [*trigger_tasks.JOBS]


def cron_jobs() -> list[CronJob]:
    """The workflows context's periodic jobs."""
    from switchboard.workflows import trigger_tasks

    return [*trigger_tasks.cron_jobs()]

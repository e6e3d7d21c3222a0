"""What the workflows context plugs into the app and the worker (models: `switchboard.workflows.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint


def blueprints() -> list[Blueprint]:
    """The workflows context's blueprints."""
    from switchboard.workflows.routes import workflows

    return [workflows]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """The workflows context's arq jobs."""
    return []


def cron_jobs() -> list[CronJob]:
    """The workflows context's periodic jobs."""
    return []

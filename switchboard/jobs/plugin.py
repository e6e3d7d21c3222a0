"""What the jobs view plugs into the app: its routes (it has no models, no jobs of its own)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint

HAS_MODELS = False


def blueprints() -> list[Blueprint]:
    """The jobs view's blueprint."""
    from switchboard.jobs.routes import jobs

    return [jobs]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """None: a job is the work of another context."""
    return []


def cron_jobs() -> list[CronJob]:
    """None."""
    return []

"""What the approvals inbox plugs into the app and the worker (models: `switchboard.approvals.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint


def blueprints() -> list[Blueprint]:
    """The inbox's routes: `/approvals/…` and `/workflows/approvals/…`."""
    from switchboard.approvals.routes import approvals, workflow_approvals

    return [approvals, workflow_approvals]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """The inbox has no queued jobs of its own."""
    return []


def cron_jobs() -> list[CronJob]:
    """Expiring overdue approvals."""
    from switchboard.approvals import tasks

    return [*tasks.CRON]

"""What the workflows context plugs into the app and the worker (models: `switchboard.workflows.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from arq.cron import CronJob
from quart import Blueprint

from switchboard.platform.runtime import Runtime

if TYPE_CHECKING:
    from switchboard.agents.registry import Agent


def blueprints() -> list[Blueprint]:
    """The workflows context's blueprints."""
    from switchboard.workflows.flow_routes import flows
    from switchboard.workflows.routes import workflows
    from switchboard.workflows.routes_runs import runs
    from switchboard.workflows.trigger_routes import triggers

    return [workflows, runs, triggers, flows]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """The workflows context's arq jobs: a step, a due delay."""
    from switchboard.workflows import trigger_tasks
    from switchboard.workflows.tasks import JOBS

    return [*JOBS, *trigger_tasks.JOBS]


def cron_jobs() -> list[CronJob]:
    """The workflows context's periodic jobs: the engine's watchdog."""
    from switchboard.workflows import trigger_tasks
    from switchboard.workflows.tasks import CRON

    return [*CRON, *trigger_tasks.cron_jobs()]


async def open_resources(runtime: Runtime, **_: Any) -> None:
    """Resume workflow steps when their approvals are decided; stop a cancelled run's steps in this process."""
    from switchboard.workflows.engine.lifecycle import start

    await start(runtime)


async def close_resources(runtime: Runtime) -> None:
    """Stop listening for cancels; close the engine's HTTP client."""
    from switchboard.workflows.engine.lifecycle import stop

    await stop(runtime)


def agents(runtime: Runtime) -> list[Agent]:
    """The `workflows` agent: list workflows, start a run, read a run."""
    from switchboard.workflows.tools import workflows_agent

    return [workflows_agent()]


FIRED_RETENTION_DAYS = 30


def pruners() -> dict[str, Any]:
    """Old schedule fires and webhook deliveries: their dedup windows are long past after a month."""

    async def fires(settings: Any) -> int:
        from datetime import UTC, datetime, timedelta

        from switchboard.workflows.trigger_models import ScheduleFire

        cutoff = datetime.now(UTC) - timedelta(days=FIRED_RETENTION_DAYS)
        return await ScheduleFire.filter(fire_time__lt=cutoff).delete()

    async def deliveries(settings: Any) -> int:
        from datetime import UTC, datetime, timedelta

        from switchboard.workflows.trigger_models import WebhookDelivery

        cutoff = datetime.now(UTC) - timedelta(days=FIRED_RETENTION_DAYS)
        return await WebhookDelivery.filter(created_at__lt=cutoff).delete()

    return {"workflow_schedule_fires": fires, "workflow_webhook_deliveries": deliveries}

"""The one place triggers start runs through the engine: in the caller's transaction, in batches, then dispatched.

Schedules claim their fire rows and create the runs those fires start in one transaction (so a fire
time runs exactly once however many workers tick), and only after the commit hand the runs' first
steps to the workers. Webhooks start one run the same way, next to their delivery row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from switchboard.config import Settings
from switchboard.platform.runtime import Runtime


@dataclass(frozen=True)
class TriggeredRun:
    """A run a trigger asks for: of which workflow's current version, as whom, with what input."""

    workflow_id: uuid.UUID
    org_id: uuid.UUID
    acting_user_id: uuid.UUID
    trigger: str  # schedule | webhook
    input: Any
    idempotency_key: str
    version: int | None = None  # None: the workflow's current version, read by the engine


async def create_runs(
    connection: BaseDBAsyncClient, wanted: Sequence[TriggeredRun], *, settings: Settings | None = None
) -> list[Any]:
    """Write the runs and their journals in the caller's transaction; the runs, in the order asked.

    With `settings` the engine's limits of runs in progress apply (429 `too_many_runs`, which rolls the
    caller's transaction back); schedules leave them out, their overlap policy is their limit.
    """
    from switchboard.workflows.runs import RunStart
    from switchboard.workflows.runs import create_runs as engine_create_runs

    starts = [
        RunStart(
            workflow_id=run.workflow_id,
            org_id=run.org_id,
            version=run.version,
            started_by=None,
            acting_user_id=run.acting_user_id,
            trigger=run.trigger,
            input=run.input,
            idempotency_key=run.idempotency_key,
        )
        for run in wanted
    ]
    return list(await engine_create_runs(connection, starts, settings=settings))


async def dispatch_runs(runtime: Runtime, runs: Sequence[Any]) -> None:
    """Hand the first steps of committed runs (as `create_runs` returned them) to the workers."""
    if not runs:
        return
    from switchboard.workflows.runs import dispatch_runs as engine_dispatch_runs

    await engine_dispatch_runs(runtime, list(runs))

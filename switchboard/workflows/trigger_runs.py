"""The one place triggers start runs through the engine: in the caller's transaction, in batches, then dispatched.

Schedules claim their fire rows and create the runs those fires start in one transaction (so a fire
time runs exactly once however many workers tick), and only after the commit hand the runs' first
steps to the workers. Webhooks start one run the same way, next to their delivery row.

A batch (schedules due together) is written with one INSERT of its runs and one of their journals,
and its first steps are enqueued side by side: the engine's `create_runs` takes a start at a time
(four statements each), too slow for thousands of schedules due in the same second. The rows are
the engine's own (`runs.INSERT_RUN` and `journal.INSERT_STEPS`, for many runs at once); a single
run (a webhook) goes through `runs.create_runs` itself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from switchboard.config import Settings
from switchboard.platform.runtime import Runtime

BATCH_THRESHOLD = 8  # fewer runs than this go through the engine's own create_runs
ENQUEUE_CONCURRENCY = 64

_INSERT_RUNS = """
INSERT INTO workflow_runs (id, org_id, workflow_id, version, status, trigger, input, acting_user_id, started_by,
    parent_step_id, open_steps, idempotency_key, created_at)
SELECT u.id, u.org_id, u.workflow_id, u.version, 'pending', u.trigger, u.input::jsonb, u.acting_user_id, NULL,
    NULL, u.open_steps, u.idempotency_key, $1
FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::int[], $6::text[], $7::text[], $8::uuid[], $9::int[], $10::text[])
    AS u(id, org_id, workflow_id, version, trigger, input, acting_user_id, open_steps, idempotency_key)
ON CONFLICT (workflow_id, idempotency_key) DO NOTHING
RETURNING id
"""
# A first step (no incoming edges) is queued at once, or at its run's fire time when that lies ahead (held by
# `resume_at` until then, as a delay node's step is).
_INSERT_STEPS = """
INSERT INTO workflow_steps (id, run_id, node_id, iteration, node_type, status, remaining, taken, need, wait_all,
    ready_at, resume_at, attempt, attempts, waited_seconds)
SELECT u.id, u.run_id, u.node_id, 0, u.node_type, 'pending', u.remaining, 0, u.need, u.wait_all,
    CASE WHEN u.remaining = 0 THEN coalesce(u.not_before, $1::timestamptz) END,
    CASE WHEN u.remaining = 0 THEN u.not_before END, 0, '[]'::jsonb, 0
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::int[], $8::bool[], $9::timestamptz[])
    AS u(id, run_id, node_id, node_type, remaining, need, wait_all, not_before)
"""


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
    not_before: datetime | None = None  # a fire time ahead: the first step waits for it


@dataclass(frozen=True)
class CreatedRun:
    """A run written by a batch: what dispatching it needs."""

    id: uuid.UUID
    not_before: datetime | None = None


async def create_runs(
    connection: BaseDBAsyncClient, wanted: Sequence[TriggeredRun], *, settings: Settings | None = None
) -> list[Any]:
    """Write the runs and their journals in the caller's transaction; the runs, in the order asked.

    With `settings` the engine's limits of runs in progress apply (429 `too_many_runs`, which rolls the
    caller's transaction back); schedules leave them out, their overlap policy is their limit. Keys
    used before give the earlier run back.
    """
    batch = len(wanted) >= BATCH_THRESHOLD or any(run.not_before for run in wanted)
    if settings is None and batch and all(run.version is not None for run in wanted):
        return await _create_batch(connection, wanted)
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


async def _create_batch(connection: BaseDBAsyncClient, wanted: Sequence[TriggeredRun]) -> list[Any]:
    from switchboard.workflows.engine import journal
    from switchboard.workflows.engine.graph import graph_for

    now = datetime.now(UTC)
    graphs = {}
    for key in {(run.workflow_id, run.version) for run in wanted}:
        assert key[1] is not None
        graphs[key] = await graph_for(key[0], key[1])
    ids = [uuid.uuid4() for _ in wanted]
    created_rows = await connection.execute_query_dict(
        _INSERT_RUNS,
        [
            now,
            ids,
            [run.org_id for run in wanted],
            [run.workflow_id for run in wanted],
            [run.version for run in wanted],
            [run.trigger for run in wanted],
            [journal.dumps(run.input) for run in wanted],
            [run.acting_user_id for run in wanted],
            [len(graphs[(run.workflow_id, run.version)].nodes) for run in wanted],
            [run.idempotency_key for run in wanted],
        ],
    )
    created = {row["id"] for row in created_rows}
    steps: list[tuple[uuid.UUID, uuid.UUID, str, str, int, int, bool, datetime | None]] = []
    for run_id, run in zip(ids, wanted, strict=True):
        if run_id not in created:
            continue
        graph = graphs[(run.workflow_id, run.version)]
        for node_id, node in graph.nodes.items():
            need, wait_all = graph.join(node_id)
            incoming = len(graph.incoming[node_id])
            steps.append((uuid.uuid4(), run_id, node_id, node.type, incoming, need, wait_all, run.not_before))
    if steps:
        await connection.execute_query(_INSERT_STEPS, [now, *[list(column) for column in zip(*steps, strict=True)]])
    runs: list[Any] = []
    for run_id, run in zip(ids, wanted, strict=True):
        if run_id in created:
            runs.append(CreatedRun(run_id, run.not_before))
        else:  # a key used before (not by a schedule's own fire rows, which are claimed first): that run
            rows = await connection.execute_query_dict(
                "SELECT id FROM workflow_runs WHERE workflow_id = $1 AND idempotency_key = $2",
                [run.workflow_id, run.idempotency_key],
            )
            runs.append(CreatedRun(rows[0]["id"]))
    return runs


async def dispatch_runs(runtime: Runtime, runs: Sequence[Any]) -> None:
    """Hand the first steps of committed runs (as `create_runs` returned them) to the workers."""
    if not runs:
        return
    from switchboard.workflows import runs as engine_runs

    if len(runs) < BATCH_THRESHOLD and not any(getattr(run, "not_before", None) for run in runs):
        await engine_runs.dispatch_runs(runtime, list(runs))
        return
    from tortoise import connections

    from switchboard.workflows.engine.runner import STEP_JOB, step_job_id

    rows = await connections.get("default").execute_query_dict(engine_runs.FIRST_STEPS_HELD, [[run.id for run in runs]])
    gate = asyncio.Semaphore(ENQUEUE_CONCURRENCY)

    async def enqueue(row: dict[str, Any]) -> None:
        hold = (row["resume_at"] - datetime.now(UTC)).total_seconds() if row["resume_at"] else None
        async with gate:
            await runtime.queue.enqueue(
                STEP_JOB,
                str(row["id"]),
                job_id=step_job_id(row["id"], row["attempt"] + 1),
                defer_seconds=hold if hold and hold > 0 else None,
            )

    await asyncio.gather(*(enqueue(row) for row in rows))

"""Runs: starting them (by hand, from triggers, as a child of a step), cancelling them, reading their log.

A run is created with its whole journal in one transaction (one row per node: the trigger's
queued, the others pending until their edges resolve); its first job is enqueued after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from switchboard.config import Settings
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, NotFound, RateLimited
from switchboard.platform.events import Event, ending
from switchboard.platform.ids import parse_id
from switchboard.platform.runtime import Runtime
from switchboard.workflows.engine import journal
from switchboard.workflows.engine.graph import graph_for
from switchboard.workflows.engine.runner import STEP_JOB, engine_for, step_job_id
from switchboard.workflows.engine.steps import RunContext, StepFailed
from switchboard.workflows.engine.steps import run_stream as run_stream  # a run's stream, for the routes and jobs
from switchboard.workflows.models import ACTIVE_RUN_STATUSES, Workflow, WorkflowRun, WorkflowStep

MANUAL_RUNNABLE = ("draft", "active", "error")
TRIGGER_KINDS = ("manual", "schedule", "webhook", "subworkflow")

INSERT_RUN = """
INSERT INTO workflow_runs (id, org_id, workflow_id, version, status, trigger, input, acting_user_id, started_by,
    parent_step_id, open_steps, idempotency_key, created_at)
VALUES ($1, $2, $3, $4, 'pending', $5, $6::jsonb, $7, $8, $9, $10, $11, $12)
ON CONFLICT (workflow_id, idempotency_key) DO NOTHING
RETURNING *
"""

FIRST_STEPS = """
SELECT id, attempt FROM workflow_steps WHERE run_id = ANY($1::uuid[]) AND status = 'pending' AND ready_at IS NOT NULL
"""

FIRST_STEPS_HELD = """
SELECT id, attempt, resume_at FROM workflow_steps
WHERE run_id = ANY($1::uuid[]) AND status = 'pending' AND ready_at IS NOT NULL
"""

COUNT_ACTIVE = """
SELECT count(*) FILTER (WHERE workflow_id = $2) AS workflow, count(*) AS org
FROM workflow_runs WHERE org_id = $1 AND status = ANY($3::text[])
"""


@dataclass(frozen=True)
class RunStart:
    """One run to create: of which workflow (and version: None is its current one), by whom, with what input."""

    workflow_id: uuid.UUID
    org_id: uuid.UUID
    version: int | None
    started_by: uuid.UUID | None
    trigger: str
    input: Any
    idempotency_key: str | None = None
    acting_user_id: uuid.UUID | None = None  # default: started_by
    parent_step_id: uuid.UUID | None = None
    max_concurrent_runs: int | None = None  # the workflow's limit, checked when limits are enforced


class TooManyRuns(RateLimited):
    """A workflow or an org already runs as many runs as it may (429)."""

    def __init__(self, message: str) -> None:
        super().__init__(retry_after_ms=5000, message=message)
        self.code = "too_many_runs"


async def create_runs(
    conn: BaseDBAsyncClient, starts: Sequence[RunStart], *, settings: Settings | None = None
) -> list[WorkflowRun]:
    """Insert runs and their journals through `conn` (the caller's transaction); enqueue nothing.

    A start whose idempotency key was used before for its workflow gets that run back. With
    `settings`, the concurrency limits are enforced (per workflow and per org) and the first start
    over a limit raises `TooManyRuns`.
    """
    now = datetime.now(UTC)
    runs: list[WorkflowRun] = []
    locked: set[uuid.UUID] = set()
    for start in starts:
        if start.trigger not in TRIGGER_KINDS:
            raise ValueError(f"unknown trigger {start.trigger}")
        if start.idempotency_key is not None:
            existing = await conn.execute_query_dict(
                "SELECT * FROM workflow_runs WHERE workflow_id = $1 AND idempotency_key = $2",
                [start.workflow_id, start.idempotency_key],
            )
            if existing:
                runs.append(WorkflowRun._init_from_db(**existing[0]))
                continue
        version = start.version
        if version is None:
            rows = await conn.execute_query_dict("SELECT version FROM workflows WHERE id = $1", [start.workflow_id])
            if not rows:
                raise NotFound("Workflow not found", code="workflow_not_found")
            version = int(rows[0]["version"])
        graph = await graph_for(start.workflow_id, version)
        if settings is not None:
            if start.org_id not in locked:
                # one start at a time per org, so two starts cannot both see room for one more
                await conn.execute_query(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 16))", [str(start.org_id)]
                )
                locked.add(start.org_id)
            counts = (
                await conn.execute_query_dict(
                    COUNT_ACTIVE, [start.org_id, start.workflow_id, list(ACTIVE_RUN_STATUSES)]
                )
            )[0]
            limit = start.max_concurrent_runs or graph.definition.settings.max_concurrent_runs
            if counts["workflow"] >= limit:
                raise TooManyRuns(
                    f"This workflow already has {counts['workflow']} runs in progress (its limit is {limit})"
                )
            if counts["org"] >= settings.workflow_org_max_concurrent_runs:
                raise TooManyRuns(
                    f"Your organization already has {counts['org']} workflow runs in progress "
                    f"(its limit is {settings.workflow_org_max_concurrent_runs})"
                )
        run_id = uuid.uuid4()
        rows = await conn.execute_query_dict(
            INSERT_RUN,
            [
                run_id,
                start.org_id,
                start.workflow_id,
                version,
                start.trigger,
                journal.dumps(start.input),
                start.acting_user_id or start.started_by,
                start.started_by,
                start.parent_step_id,
                len(graph.nodes),
                start.idempotency_key,
                now,
            ],
        )
        if not rows:  # the same key, committed by another start a moment ago
            existing = await conn.execute_query_dict(
                "SELECT * FROM workflow_runs WHERE workflow_id = $1 AND idempotency_key = $2",
                [start.workflow_id, start.idempotency_key],
            )
            runs.append(WorkflowRun._init_from_db(**existing[0]))
            continue
        steps = []
        for node_id, node in graph.nodes.items():
            need, wait_all = graph.join(node_id)
            steps.append((uuid.uuid4(), node_id, node.type, len(graph.incoming[node_id]), need, wait_all))
        await journal.insert_steps(conn, run_id, now, steps)
        runs.append(WorkflowRun._init_from_db(**rows[0]))
    return runs


async def dispatch_runs(runtime: Runtime, runs: Sequence[WorkflowRun]) -> None:
    """Enqueue the first steps of runs created by `create_runs` (after their commit; again is harmless)."""
    if not runs:
        return
    rows = await connections.get("default").execute_query_dict(FIRST_STEPS, [[run.id for run in runs]])
    for row in rows:
        await runtime.queue.enqueue(STEP_JOB, str(row["id"]), job_id=step_job_id(row["id"], row["attempt"] + 1))


async def start_run(
    runtime: Runtime,
    principal: Principal,
    workflow_id: uuid.UUID | str,
    *,
    input: Any,
    trigger: str = "manual",
    idempotency_key: str | None = None,
) -> WorkflowRun:
    """Start a run of the workflow's current version: manual runs act as `principal`, others as the owner.

    429 `too_many_runs` over the workflow's or the org's limit of runs in progress; 409
    `workflow_not_runnable` for a paused or archived workflow (schedules and webhooks: active only).
    """
    workflow = await _workflow(principal, workflow_id)
    allowed = MANUAL_RUNNABLE if trigger == "manual" else ("active",)
    if workflow.status not in allowed:
        raise Conflict(f"This workflow is {workflow.status} and cannot run", code="workflow_not_runnable")
    acting = principal.user_id if trigger == "manual" else workflow.owner_id
    start = RunStart(
        workflow_id=workflow.id,
        org_id=workflow.org_id,
        version=workflow.version,
        started_by=principal.user_id,
        acting_user_id=acting,
        trigger=trigger,
        input=input,
        idempotency_key=idempotency_key,
    )
    async with in_transaction() as conn:
        (run,) = await create_runs(conn, [start], settings=runtime.settings)
    await dispatch_runs(runtime, [run])
    return run


async def start_child_run(
    runtime: Runtime, parent: RunContext, *, parent_step_id: uuid.UUID, workflow_id: str, version: int, input: Any
) -> WorkflowRun:
    """The child run of a subworkflow step (once per step), acting as the parent's person."""
    try:
        child_workflow = uuid.UUID(workflow_id)
    except ValueError as exc:
        raise StepFailed("workflow_not_found", "The subworkflow does not exist", retryable=False) from exc
    found = await Workflow.filter(id=child_workflow, org_id=parent.org_id, deleted_at=None).exists()
    if not found:
        raise StepFailed("workflow_not_found", "The subworkflow does not exist in this org", retryable=False)
    start = RunStart(
        workflow_id=child_workflow,
        org_id=parent.org_id,
        version=version,
        started_by=parent.acting_user_id,
        trigger="subworkflow",
        input=input,
        idempotency_key=f"parent:{parent_step_id}",
        parent_step_id=parent_step_id,
    )
    try:
        async with in_transaction() as conn:
            (run,) = await create_runs(conn, [start])
    except NotFound as exc:
        raise StepFailed("workflow_version_not_found", exc.message, retryable=False) from exc
    await dispatch_runs(runtime, [run])
    return run


async def cancel_run(runtime: Runtime, principal: Principal, workflow_id: str, run_id: str) -> WorkflowRun:
    """Cancel a run in progress: nothing more starts, its running steps are stopped; 409 once it has ended."""
    run = await get_run(principal, workflow_id, run_id)
    if run.status not in ACTIVE_RUN_STATUSES:
        raise Conflict(f"This run has already {run.status}", code="run_finished")
    await engine_for(runtime).stop_run(run.id, "cancelled", {"code": "cancelled", "message": "Cancelled by a person"})
    await run.refresh_from_db()
    return run


async def get_run(principal: Principal, workflow_id: str, run_id: str) -> WorkflowRun:
    """A run of a workflow of the caller's org; NotFound otherwise."""
    run = await WorkflowRun.get_or_none(
        id=parse_id(run_id, "Run"), workflow_id=parse_id(workflow_id, "Workflow"), org_id=principal.org_id
    )
    if run is None:
        raise NotFound("Run not found", code="run_not_found")
    return run


async def list_runs(
    principal: Principal, workflow_id: str, *, status: str | None, limit: int, offset: int
) -> tuple[list[WorkflowRun], int]:
    """A page of the workflow's runs, newest first, and how many there are."""
    workflow = await _workflow(principal, workflow_id)
    query = WorkflowRun.filter(workflow_id=workflow.id, org_id=principal.org_id)
    if status:
        query = query.filter(status=status)
    total = await query.count()
    return await query.order_by("-created_at").offset(offset).limit(limit), total


async def steps_of(run: WorkflowRun) -> list[WorkflowStep]:
    """The run's journal, in the order its steps started (loop iterations by index)."""
    steps = await WorkflowStep.filter(run_id=run.id)
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(steps, key=lambda s: (s.started_at or s.finished_at or far, s.node_id, s.iteration))


async def record_outcome(workflow_id: uuid.UUID, succeeded: bool) -> None:
    """Tell the definitions side how a run ended (consecutive failures put a workflow in 'error')."""
    from switchboard.workflows.service import record_run_outcome

    await record_run_outcome(workflow_id, succeeded)


async def _workflow(principal: Principal, workflow_id: uuid.UUID | str) -> Workflow:
    key = workflow_id if isinstance(workflow_id, uuid.UUID) else parse_id(workflow_id, "Workflow")
    workflow = await Workflow.get_or_none(id=key, org_id=principal.org_id, deleted_at=None)
    if workflow is None:
        raise NotFound("Workflow not found", code="workflow_not_found")
    return workflow


def ended_events(run: WorkflowRun) -> list[Event] | None:
    """The end of a run that has ended, told once its stream has expired (None while it goes on)."""
    if run.status in ACTIVE_RUN_STATUSES:
        return None
    fields: dict[str, Any] = {"task_id": str(run.id), "run_id": str(run.id), "workflow_id": str(run.workflow_id)}
    if run.error:
        fields["error"] = run.error
    message = (run.error or {}).get("message") or f"Run {run.status}"
    return [ending(run.status, run.finished_at or run.created_at, message=message, status=run.status, **fields)]

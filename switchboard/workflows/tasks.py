"""arq jobs of the workflow engine: run a step, resume a due delay, and the watchdog."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from arq import cron
from tortoise import connections

from switchboard.platform.runtime import Runtime
from switchboard.workflows.engine.runner import RESUME_JOB, STEP_JOB, engine_for, step_job_id

log = logging.getLogger(__name__)

LOST_AFTER = timedelta(seconds=5)
"""A queued step older than this without a worker on it may have lost its job (committed, never enqueued)."""
STUCK_AFTER_LEASES = 2
"""Past this many leases (10 s at least), a step's job is enqueued under a new id: the job of the first id may
sit taken by a worker that died before it started the step (arq keeps such a job until its timeout)."""

# Steps of active runs that need a job: running on a dead worker (lease ran out), queued long ago
# with no job in sight, a delay past its time, a subworkflow whose child ended.
ORPHANS = """
SELECT s.id, s.attempt, s.status, s.waiting_for, s.ready_at, s.resume_at, s.lease_until
FROM workflow_steps s JOIN workflow_runs r ON r.id = s.run_id
WHERE r.status = ANY($1::text[]) AND (
    (s.status = 'running' AND s.lease_until < $2)
    OR (s.status = 'pending' AND s.ready_at < $3 AND (s.resume_at IS NULL OR s.resume_at < $3))
    OR (s.status = 'waiting' AND s.waiting_for = 'delay' AND s.resume_at < $3)
    OR (s.status = 'waiting' AND s.waiting_for = 'subworkflow' AND EXISTS (
        SELECT 1 FROM workflow_runs c WHERE c.id = s.child_run_id AND NOT (c.status = ANY($1::text[]))))
)
LIMIT 500
"""


async def run_workflow_step(ctx: dict[str, Any], step_id: str) -> str:
    """Run one step of a run (and the steps it makes ready, in this worker); safe to deliver twice."""
    runtime: Runtime = ctx["runtime"]
    return await engine_for(runtime).run_job(step_id, ctx.get("job_id"))


async def resume_workflow_step(ctx: dict[str, Any], step_id: str) -> str:
    """A delay is due: the step finishes and the run goes on."""
    runtime: Runtime = ctx["runtime"]
    return await engine_for(runtime).resume_delay(step_id)


async def watch_workflow_steps(ctx: dict[str, Any]) -> int:
    """Queue again what no worker will do otherwise: steps of dead workers, lost jobs, due delays, ended children."""
    runtime: Runtime = ctx["runtime"]
    engine = engine_for(runtime)
    now = datetime.now(UTC)
    rows = await connections.get("default").execute_query_dict(
        ORPHANS, [["pending", "running", "awaiting_approval"], now, now - LOST_AFTER]
    )
    stuck_after = max(10.0, STUCK_AFTER_LEASES * runtime.settings.workflow_step_lease_seconds)
    stamp = f"w{int(now.timestamp() // stuck_after)}"
    for row in rows:
        step_id = row["id"]
        since = row["resume_at"] or row["ready_at"] or row["lease_until"] or now
        stuck = (now - since).total_seconds() > stuck_after
        if row["status"] == "waiting" and row["waiting_for"] == "subworkflow":
            await engine.resume_parent(step_id)
        elif row["status"] == "waiting":
            job_id = f"wf:{step_id}:delay" + (f":{stamp}" if stuck else "")
            await runtime.queue.enqueue(RESUME_JOB, str(step_id), job_id=job_id)
        elif row["status"] == "running":
            # its worker died: the job of the next attempt may already be taken by another dead worker, so
            # a job of its own for this beat (a second one finds the step taken and does nothing)
            job_id = step_job_id(step_id, row["attempt"] + 1) + f":{stamp}:{int(now.timestamp())}"
            await runtime.queue.enqueue(STEP_JOB, str(step_id), job_id=job_id)
        else:
            job_id = step_job_id(step_id, row["attempt"] + 1) + (f":{stamp}" if stuck else "")
            await runtime.queue.enqueue(STEP_JOB, str(step_id), job_id=job_id)
    if rows:
        log.info("watchdog queued %d workflow step(s) again", len(rows))
    return len(rows)


JOBS = [run_workflow_step, resume_workflow_step]
CRON = [cron(watch_workflow_steps, second=set(range(0, 60, 3)), unique=True, run_at_startup=True, timeout=60)]

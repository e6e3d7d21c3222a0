"""The engine: takes a queued step, runs its node, and journals how it ended together with what it made due.

One transaction finishes a step, resolves the edges leaving it (successors made ready or skipped,
skips propagated) and takes the first successor made ready for this same worker, which then runs
it at once: a sequential run needs no queue round trip between steps. The other ready steps are
enqueued as arq jobs only after that commit (a crash in between loses nothing: the watchdog finds
queued steps whose job never came). A step's job may be delivered any number of times: the
journal's conditional updates start and finish it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from switchboard.agents.builtin.network import PinnedClients, check_public_url
from switchboard.agents.registry import Registry
from switchboard.platform.auth import Principal, principal_for
from switchboard.platform.errors import AppError
from switchboard.platform.leases import WORKER_ID, Lease
from switchboard.platform.runtime import Runtime
from switchboard.workflows.definition import LoopConfig, node_config
from switchboard.workflows.engine import journal, nodes
from switchboard.workflows.engine.graph import Graph, graph_for, output_scope
from switchboard.workflows.engine.steps import Done, Park, RunContext, StepFailed, StepRun, run_audience, run_stream
from switchboard.workflows.models import ACTIVE_RUN_STATUSES, WorkflowRun, WorkflowStep
from switchboard.workflows.templates import TemplateFailed

log = logging.getLogger(__name__)

STEP_JOB = "run_workflow_step"
RESUME_JOB = "resume_workflow_step"
INLINE_BUDGET_S = 60.0
"""How long one job carries a run from step to step before it hands the next step to the queue."""
PRINCIPAL_TTL_S = 2.0
"""How long a worker reuses the acting person's principal (their role and groups) between steps."""
ACTIVE = list(ACTIVE_RUN_STATUSES)


def step_job_id(step_id: uuid.UUID | str, attempt: int) -> str:
    """The arq job that starts attempt `attempt` of a step: one per attempt, so a duplicate enqueue is a no-op."""
    return f"wf:{step_id}:a{attempt}"


def _now() -> datetime:
    return datetime.now(UTC)


class LeaseLost(Exception):
    """Another worker took the step over (this one was too slow to renew): its result is dropped."""


class Engine:
    """Runs steps in this process; one per process, kept on the runtime (`engine_for`)."""

    def __init__(self, runtime: Runtime, registry: Registry | None = None) -> None:
        self.runtime = runtime
        self._registry = registry
        self.lease_seconds = float(runtime.settings.workflow_step_lease_seconds)
        self.resources: Mapping[str, Any] = {"runtime": runtime}
        self.deliveries = PinnedClients()  # the clients deliveries post with
        self._running: dict[uuid.UUID, set[asyncio.Task[Any]]] = {}
        self.cancel_listener: asyncio.Task[None] | None = None

    @property
    def registry(self) -> Registry:
        """Every agent of this process (the one registry the process built at start-up)."""
        if self._registry is None:
            self._registry = self.runtime.resource(Registry)
        return self._registry

    async def close(self) -> None:
        """Close the delivery clients."""
        await self.deliveries.aclose()

    # --- taking and running steps -------------------------------------------------------------

    async def run_job(self, step_id: str, job_id: str | None = None) -> str:
        """Run the step (if it is still to run) and whatever it makes ready for this worker."""
        owner = f"{WORKER_ID}:{uuid.uuid4().hex[:8]}"
        now = _now()
        rows = await _db().execute_query_dict(
            journal.CLAIM, [uuid.UUID(step_id), owner, journal.lease_until(now, self.lease_seconds), now, ACTIVE]
        )
        if not rows:
            return "not due, already taken, finished, or its run ended"
        row = rows[0]
        graph = await graph_for(row["workflow_id"], row["version"])
        run = RunContext(
            id=row["run_id"],
            org_id=row["org_id"],
            workflow_id=row["workflow_id"],
            version=row["version"],
            input=journal.loads(row["input"]),
            acting_user_id=row["acting_user_id"],
            trigger=row["trigger"],
            graph=graph,
        )
        step = StepRun(
            id=row["id"],
            node=graph.nodes[row["node_id"]],
            iteration=row["iteration"],
            attempt=row["attempt"],
            ready_at=row["ready_at"],
            started_at=now,
            state=journal.loads(row["state"]),
            approval_id=row["approval_id"],
            child_run_id=row["child_run_id"],
            run=run,
            engine=self,
            owner=owner,
        )
        await self.runtime.events.append(
            run.stream, "step_started", f"{step.node.id} started", audience=run.audience, **self._step_fields(step)
        )
        return await self.drive(step)

    async def drive(self, step: StepRun | None) -> str:
        """Run `step`, then each next step this worker took for itself, until none is left or the budget is spent."""
        began = time.monotonic()
        ran = 0
        while step is not None:
            inline = time.monotonic() - began < INLINE_BUDGET_S
            step = await self._run_one(step, inline)
            ran += 1
        return f"{ran} step(s)"

    async def _run_one(self, step: StepRun, inline: bool) -> StepRun | None:
        lease: Lease[WorkflowStep] = Lease(WorkflowStep, _Key(step.id), step.owner, self.lease_seconds)  # type: ignore[arg-type]
        task = asyncio.current_task()
        tasks = self._running.setdefault(step.run.id, set())
        if task is not None:
            tasks.add(task)
        try:
            async with lease.held():
                lease.released = True  # the journal's own statements let go of it
                try:
                    outcome = await self._execute(step)
                except StepFailed as failure:
                    await self._failed(step, failure)
                    return None
                if isinstance(outcome, Park):
                    await self._park(step, outcome)
                    return None
                return await self.settle(step, outcome, inline=inline)
        except asyncio.CancelledError:
            await asyncio.shield(self._cancelled(step))
            raise
        except LeaseLost:
            log.warning("step %s of run %s was taken over by another worker", step.node.id, step.run.id)
            return None
        finally:
            if task is not None:
                tasks.discard(task)
                if not tasks:
                    self._running.pop(step.run.id, None)

    async def _execute(self, step: StepRun) -> Done | Park:
        node = step.node
        config = step.run.graph.configs[node.id]
        await self._ensure_outputs(step.run, step.node.id)
        try:
            call = nodes.EXECUTORS[node.type](step, config, step.scope())
            if node.timeout_seconds:
                try:
                    return await asyncio.wait_for(call, node.timeout_seconds)
                except TimeoutError as exc:
                    raise StepFailed("timeout", f"The step ran past its {node.timeout_seconds:g} s timeout") from exc
            return await call
        except TemplateFailed as exc:
            raise nodes.template_failure(exc) from exc
        except StepFailed:
            raise
        except AppError as exc:
            raise StepFailed(exc.code, exc.message) from exc
        except (asyncio.CancelledError, LeaseLost):
            raise
        except Exception as exc:  # a bug or an outage: the node's retries, then a failed run, never a stuck step
            log.exception("step %s of run %s failed unexpectedly", step.node.id, step.run.id)
            raise StepFailed("internal_error", f"The step failed unexpectedly ({type(exc).__name__})") from exc

    async def _ensure_outputs(self, run: RunContext, node_id: str) -> None:
        """Read the run's outputs unless this worker already holds every one this node can see.

        A worker that carried the run here from the node's only predecessor holds them (the
        predecessor's own view plus its output); a join, or a step taken from the queue, reads them.
        """
        incoming = run.graph.incoming[node_id]
        if not incoming or (run.outputs_loaded and len(incoming) == 1 and incoming[0].source in run.outputs):
            return
        rows = await _db().execute_query_dict(journal.OUTPUTS, [run.id])
        run.outputs = {r["node_id"]: journal.loads(r["output"]) for r in rows}
        run.outputs_loaded = True

    # --- finishing a step ---------------------------------------------------------------------

    async def settle(self, step: StepRun, done: Done, *, inline: bool) -> StepRun | None:
        """Journal the step's end and what it made due, in one transaction; then tell and hand on."""
        now = _now()
        run = step.run
        entry = (
            journal.attempt_entry(
                step.attempt,
                status=done.status,
                queued_at=step.ready_at,
                started_at=step.started_at,
                finished_at=now,
                input=done.input,
                output=done.output,
                error=None,
            )
            if not done.meta
            else _entry_with_meta(step, done, now)
        )
        edges = run.graph.taken(step.node.id, done.branch)
        counts: dict[str, list[int]] = {}
        for target, taken in edges:
            counted = counts.setdefault(target, [0, 0])
            counted[0] += 1
            counted[1] += int(taken)
        # the successor this worker runs next if it becomes ready: the first one a taken edge leads to
        mine = next((target for target, taken in edges if taken), None) if inline else None
        nodes = list(counts)
        async with in_transaction() as conn:
            await conn.execute_query(journal.LOCK_RUN, [run.id])
            rows = await conn.execute_query_dict(
                journal.SETTLE,
                [
                    step.id,
                    step.owner,
                    done.status,
                    journal.dumps(done.output),
                    done.branch,
                    None,
                    journal.dumps(done.input),
                    now,
                    entry,
                    nodes,
                    [counts[n][0] for n in nodes],
                    [counts[n][1] for n in nodes],
                    mine,
                    journal.lease_until(now, self.lease_seconds),
                    ACTIVE,
                ],
            )
            run_row = next((r for r in rows if r["kind"] == "run"), None)
            if run_row is None:
                raise LeaseLost(step.id)
            settled = _Settled(
                ready=[
                    (r["id"], r["node_id"], r["node_type"])
                    for r in rows
                    if r["kind"] == "step" and r["status"] == "pending" and r["ready_at"] == now
                ],
                skipped=[
                    (r["id"], r["node_id"])
                    for r in rows
                    if r["kind"] == "step" and r["status"] == "skipped" and r["finished_at"] == now
                ],
                claimed=next(
                    (
                        (r["id"], r["node_id"], r["attempt"])
                        for r in rows
                        if r["kind"] == "step" and r["status"] == "running" and r["ready_at"] == now
                    ),
                    None,
                ),
                open_steps=run_row["open_steps"],
                status=run_row["status"],
                parent_step_id=run_row["parent_step_id"],
            )
            plan = await self._advance(
                conn, run, step.node.id, done.branch, now, take=step.owner if inline else None, settled=settled
            )
        run.outputs[step.node.id] = done.output
        return await self._after(run, step, done, plan, now)

    async def _advance(
        self,
        conn: BaseDBAsyncClient,
        run: RunContext,
        node_id: str,
        branch: str | None,
        now: datetime,
        *,
        take: str | None,
        settled: _Settled | None = None,
    ) -> _Plan:
        """Resolve the edges leaving `node_id` (and those of the steps that skips reach), take one ready step for
        `take`, count the finished ones off the run and end it when none is left."""
        graph = run.graph
        if settled is None:
            resolved = await journal.resolve(conn, run.id, graph.taken(node_id, branch), now)
            ready, skipped, claimed = list(resolved.ready), list(resolved.skipped), None
        else:  # the step's own statement resolved the first level (and counted it off the run)
            ready, skipped, claimed = list(settled.ready), list(settled.skipped), settled.claimed
        frontier = list(skipped)
        further: list[tuple[uuid.UUID, str]] = []
        while frontier:  # a skipped step's edges are all not taken: skips travel down until a join that ran
            edges = [(target, False) for _, skipped_node in frontier for target, _ in graph.taken(skipped_node, None)]
            more = await journal.resolve(conn, run.id, edges, now)
            ready.extend(more.ready)
            further.extend(more.skipped)
            frontier = more.skipped
        if take is not None and claimed is None:
            for index, (step_id, next_node, _) in enumerate(ready):
                rows = await conn.execute_query_dict(
                    journal.CLAIM_READY,
                    [step_id, take, journal.lease_until(now, self.lease_seconds), now, run.id, ACTIVE],
                )
                if rows:
                    claimed = (step_id, next_node, rows[0]["attempt"])
                    del ready[index]
                break
        skipped += further
        if settled is None:
            closing = await conn.execute_query_dict(journal.CLOSE_STEPS, [run.id, 1 + len(skipped)])
        elif further:
            closing = await conn.execute_query_dict(journal.CLOSE_STEPS, [run.id, len(further)])
        else:
            closing = [
                {"open_steps": settled.open_steps, "status": settled.status, "parent_step_id": settled.parent_step_id}
            ]
        open_steps, status = closing[0]["open_steps"], closing[0]["status"]
        ended = None
        if open_steps <= 0 and status in ACTIVE_RUN_STATUSES:
            sinks = [n for n in graph.nodes if not graph.outgoing[n]]
            rows = await conn.execute_query_dict(journal.SINK_OUTPUTS, [run.id, sinks])
            output = {r["node_id"]: journal.loads(r["output"]) for r in rows}
            await conn.execute_query(journal.END_RUN, [run.id, "completed", journal.dumps(output), None, now, ACTIVE])
            ended = ("completed", output)
        elif not ready and claimed is None and status in ACTIVE_RUN_STATUSES:
            await conn.execute_query(journal.AWAITING, [run.id])
        return _Plan(ready, skipped, claimed, ended, closing[0]["parent_step_id"])

    async def _after(
        self, run: RunContext, step: StepRun | None, done: Done | None, plan: _Plan, now: datetime
    ) -> StepRun | None:
        """After the commit: the events, the jobs of the other ready steps, and the run's end."""
        entries: list[journal_entry] = []
        if step is not None and done is not None:
            entries.append(
                (
                    "step_completed" if done.status == "completed" else "step_skipped",
                    f"{step.node.id} {done.status}",
                    {**self._step_fields(step), "branch": done.branch, "output": _preview(done.output)},
                )
            )
        for _, node_id in plan.skipped:
            entries.append(("step_skipped", f"{node_id} skipped", {"node_id": node_id}))
        following = None
        if plan.claimed is not None:
            step_id, node_id, attempt = plan.claimed
            assert step is not None
            following = StepRun(
                id=step_id,
                node=run.graph.nodes[node_id],
                iteration=0,
                attempt=attempt,
                ready_at=now,
                started_at=_now(),
                state=None,
                approval_id=None,
                child_run_id=None,
                run=run,
                engine=self,
                owner=step.owner,
            )
            entries.append(("step_started", f"{node_id} started", self._step_fields(following)))
        if plan.ended is not None:
            status, _ = plan.ended
            entries.append(
                (
                    status,
                    f"Run {status}",
                    {"run_id": str(run.id), "workflow_id": str(run.workflow_id), "status": status},
                )
            )
        if entries:
            await self.runtime.events.append_many(run.stream, entries, audience=run.audience)
        for step_id, _, _ in plan.ready:
            await self.runtime.queue.enqueue(STEP_JOB, str(step_id), job_id=step_job_id(step_id, 1))
        if plan.ended is not None:
            await self._run_ended(run.id, run.workflow_id, plan.ended[0], plan.parent_step_id)
        return following

    async def _run_ended(
        self, run_id: uuid.UUID, workflow_id: uuid.UUID, status: str, parent_step_id: uuid.UUID | None
    ) -> None:
        from switchboard.workflows import runs

        await runs.record_outcome(workflow_id, status == "completed")
        if parent_step_id is not None:
            await self.resume_parent(parent_step_id)

    # --- failing, parking, cancelling ---------------------------------------------------------

    async def _failed(self, step: StepRun, failure: StepFailed) -> None:
        now = _now()
        retry = step.node.retry
        entry = journal.attempt_entry(
            step.attempt,
            status="failed",
            queued_at=step.ready_at,
            started_at=step.started_at,
            finished_at=now,
            input=failure.input,
            error=failure.as_dict(),
        )
        if failure.retryable and step.attempt < retry.attempts:
            wait = retry.delay_seconds * retry.backoff ** (step.attempt - 1)
            wait *= 1 + random.uniform(-retry.jitter, retry.jitter)
            due = now + timedelta(seconds=max(0.0, wait))
            rows = await _db().execute_query_dict(
                journal.REQUEUE, [step.id, step.owner, now, due, journal.dumps(failure.as_dict()), entry, None]
            )
            if not rows:
                raise LeaseLost(step.id)
            await self.runtime.events.append(
                step.run.stream,
                "step_retrying",
                f"{step.node.id} failed ({failure.code}); trying again",
                audience=step.run.audience,
                **self._step_fields(step),
                error=failure.as_dict(),
                retry_at=due.isoformat(),
            )
            await self.runtime.queue.enqueue(
                STEP_JOB,
                str(step.id),
                job_id=step_job_id(step.id, rows[0]["attempt"] + 1),
                defer_seconds=max(wait, 0.001),
            )
            return None
        async with in_transaction() as conn:
            await conn.execute_query(journal.LOCK_RUN, [step.run.id])
            updated, _ = await conn.execute_query(
                journal.FINISH,
                [
                    step.id,
                    step.owner,
                    "failed",
                    None,
                    None,
                    journal.dumps(failure.as_dict()),
                    journal.dumps(failure.input),
                    now,
                    entry,
                ],
            )
            if not updated:
                raise LeaseLost(step.id)
            ended = await self._fail_run(conn, step.run.id, failure.as_dict() | {"node_id": step.node.id}, now)
        await self.runtime.events.append_many(
            step.run.stream,
            audience=step.run.audience,
            entries=[
                ("step_failed", failure.message, {**self._step_fields(step), "error": failure.as_dict()}),
                (
                    "failed",
                    f"Run failed at {step.node.id}: {failure.message}",
                    {"run_id": str(step.run.id), "status": "failed", "error": failure.as_dict()},
                ),
            ],
        )
        if ended is not None:
            await self._after_stop(ended)
        return None

    async def _fail_run(
        self, conn: BaseDBAsyncClient, run_id: uuid.UUID, error: dict[str, Any], now: datetime, status: str = "failed"
    ) -> _Stopped | None:
        """End an active run as failed (or cancelled): what has not started is skipped. None when it had ended."""
        updated, _ = await conn.execute_query(
            journal.END_RUN, [run_id, status, None, journal.dumps(error), now, ACTIVE]
        )
        if not updated:
            return None
        skipped = await conn.execute_query_dict(
            journal.SKIP_OPEN, [run_id, now, journal.dumps({"code": status, "message": f"The run {status}"})]
        )
        row = (
            await conn.execute_query_dict(
                "SELECT org_id, workflow_id, parent_step_id FROM workflow_runs WHERE id = $1", [run_id]
            )
        )[0]
        return _Stopped(run_id, row["workflow_id"], status, row["parent_step_id"], skipped, row["org_id"])

    async def _after_stop(self, stopped: _Stopped) -> None:
        """Void what the stopped run's parked steps were waiting for, then tell its workflow and parent."""
        from switchboard.approvals import void_for_subject

        for row in stopped.skipped:
            if row["approval_id"] is not None:
                await void_for_subject("workflow_step", row["id"], self.runtime)
            if row["child_run_id"] is not None:
                await self.stop_run(
                    row["child_run_id"], "cancelled", {"code": "cancelled", "message": "Its parent run ended"}
                )
        await self._run_ended(stopped.run_id, stopped.workflow_id, stopped.status, stopped.parent_step_id)

    async def stop_run(self, run_id: uuid.UUID, status: str, error: dict[str, Any]) -> bool:
        """Fail or cancel an active run: its queued and parked steps are skipped, its running jobs aborted."""
        now = _now()
        async with in_transaction() as conn:
            stopped = await self._fail_run(conn, run_id, error, now, status)
            running = await conn.execute_query_dict(
                "SELECT id, attempt FROM workflow_steps WHERE run_id = $1 AND status = 'running'", [run_id]
            )
        if stopped is None:
            return False
        await self.runtime.events.append(
            run_stream(run_id),
            status,
            error.get("message", f"Run {status}"),
            audience=run_audience(stopped.org_id),
            run_id=str(run_id),
            workflow_id=str(stopped.workflow_id),
            status=status,
        )
        await self._abort(run_id, [(r["id"], r["attempt"]) for r in running])
        await self._after_stop(stopped)
        return True

    async def _abort(self, run_id: uuid.UUID, running: list[tuple[uuid.UUID, int]]) -> None:
        """Ask every worker to stop the run's steps now (they also stop between steps by themselves)."""
        if not running:
            return
        await self.runtime.redis.publish(CANCEL_CHANNEL, str(run_id))

    def cancel_local(self, run_id: str) -> int:
        """Cancel this process's tasks running steps of `run_id` (a cancel announced on the channel)."""
        try:
            key = uuid.UUID(run_id)
        except ValueError:
            return 0
        tasks = list(self._running.get(key, ()))
        for task in tasks:
            task.cancel()
        return len(tasks)

    async def _cancelled(self, step: StepRun) -> None:
        """A step's task was cancelled: a cancelled run skips it; a worker shutting down leaves it to the watchdog."""
        with contextlib.suppress(Exception):
            await _db().execute_query(
                "UPDATE workflow_steps SET status = 'skipped', finished_at = $3, lease_owner = NULL, "
                "lease_until = NULL, "
                "error = $4::jsonb WHERE id = $1 AND lease_owner = $2 AND EXISTS "
                "(SELECT 1 FROM workflow_runs r WHERE r.id = $5 AND r.status = 'cancelled')",
                [
                    step.id,
                    step.owner,
                    _now(),
                    journal.dumps({"code": "cancelled", "message": "The run was cancelled"}),
                    step.run.id,
                ],
            )

    async def _park(self, step: StepRun, park: Park) -> None:
        updated, _ = await _db().execute_query(
            journal.PARK,
            [
                step.id,
                step.owner,
                park.waiting_for,
                journal.dumps(park.input),
                journal.dumps(park.state),
                park.resume_at,
                park.approval_id,
                park.child_run_id,
            ],
        )
        if not updated:
            raise LeaseLost(step.id)
        if park.waiting_for in ("approval", "confirmation"):
            await _db().execute_query(journal.AWAITING, [step.run.id])
        entries = [
            (
                "step_waiting",
                f"{step.node.id} waiting for {park.waiting_for}",
                {**self._step_fields(step), "waiting_for": park.waiting_for},
            )
        ]
        if park.event is not None:
            entries.append((park.event[0], park.event[1], {**self._step_fields(step), **park.event[2]}))
        await self.runtime.events.append_many(step.run.stream, entries, audience=step.run.audience)
        if park.waiting_for == "delay" and park.resume_at is not None:
            wait = max(0.001, (park.resume_at - _now()).total_seconds())
            await self.runtime.queue.enqueue(RESUME_JOB, str(step.id), job_id=f"wf:{step.id}:delay", defer_seconds=wait)
        # decided (or ended) before the park was journaled: resume now, the conditional update makes it once
        if park.approval_id is not None:
            from switchboard.approvals import Approval

            found = await Approval.get_or_none(id=park.approval_id)
            if found is not None and found.status != "pending":
                await self.resume_approval(found)
        if park.child_run_id is not None:
            await self.resume_parent(step.id)

    async def ask_confirmation(
        self, step: StepRun, input: Any, title: str, reason: str, *, state: dict[str, Any] | None = None
    ) -> Park:
        """Park a step whose tool call needs the acting person's confirmation, as an approval for them."""
        from switchboard.approvals import request_approval

        context = {
            "workflow_id": str(step.run.workflow_id),
            "run_id": str(step.run.id),
            "node_id": step.node.id,
            "description": reason,
            "show": {"arguments": input},
        }
        found = await request_approval(
            org_id=step.run.org_id,
            kind="workflow_step",
            subject_id=step.id,
            key=f"confirm:{step.attempt}:{len((state or {}).get('messages', []))}",
            title=title,
            context=context,
            requested_by=step.run.acting_user_id,
            approvers={"users": [str(step.run.acting_user_id)]},
            allow_self_approval=True,
            expires_at=_now() + timedelta(hours=24),
            link=f"/workflows/{step.run.workflow_id}/executions/{step.run.id}",
            runtime=self.runtime,
        )
        event = ("approval_required", title, {"approval_id": str(found.id), "title": title, "context": context})
        return Park("confirmation", input=input, state=state, approval_id=found.id, event=event)

    # --- resuming parked steps ----------------------------------------------------------------

    async def resume_approval(self, approval: Any) -> None:
        """An approval of a workflow step is final: continue, follow its branch, or fail, once."""
        row = await WorkflowStep.get_or_none(id=approval.subject_id)
        if row is None or row.status != "waiting" or row.approval_id != approval.id:
            return
        run_row = await WorkflowRun.get(id=row.run_id)
        graph = await graph_for(run_row.workflow_id, run_row.version)
        comment = await _comment(approval)
        waited = (_now() - (row.started_at or _now())).total_seconds()
        resolved = {"approval_id": str(approval.id), "status": approval.status, "comment": comment}
        await self.runtime.events.append(
            run_stream(row.run_id),
            "approval_resolved",
            f"{row.node_id} {approval.status}",
            audience=run_audience(approval.org_id),
            node_id=row.node_id,
            step_id=str(row.id),
            **resolved,
        )
        if row.waiting_for == "confirmation":
            if approval.status == "approved":
                state = dict(row.state or {})
                state["confirmed"] = True
                if state.get("pending"):
                    state["decisions"] = {call_id: True for call_id in state["pending"]}
                await self._requeue_waiting(row, state, waited)
            else:
                await self._end_waiting(
                    row,
                    graph,
                    run_row,
                    "failed",
                    None,
                    None,
                    {"code": "tool_rejected", "message": comment or f"The tool call was {approval.status}"},
                    waited,
                )
            return
        config = graph.configs[row.node_id]
        decision = approval.status
        if decision == "expired":
            on_timeout = getattr(config, "on_timeout", "reject")
            decision = {"reject": "rejected", "approve": "approved", "skip": "skipped", "timeout_edge": "timeout"}[
                on_timeout
            ]
        output = {"decision": decision, "status": approval.status, "comment": comment}
        edges = {edge.when for edge in graph.outgoing[row.node_id]}
        if decision == "approved":
            await self._end_waiting(row, graph, run_row, "completed", output, "approved", None, waited)
        elif decision == "skipped":
            await self._end_waiting(row, graph, run_row, "skipped", output, "approved", None, waited)
        elif decision in edges:
            await self._end_waiting(row, graph, run_row, "completed", output, decision, None, waited)
        else:
            message = comment or f"The approval was {approval.status}"
            await self._end_waiting(
                row,
                graph,
                run_row,
                "failed",
                output,
                None,
                {"code": f"approval_{decision}", "message": message},
                waited,
            )

    async def resume_delay(self, step_id: str) -> str:
        """A delay is due: finish it (once) and hand on."""
        row = await WorkflowStep.get_or_none(id=step_id)
        if row is None or row.status != "waiting" or row.waiting_for != "delay":
            return "not waiting"
        if row.resume_at is not None and row.resume_at > _now():
            return "not due yet"
        run_row = await WorkflowRun.get(id=row.run_id)
        graph = await graph_for(run_row.workflow_id, run_row.version)
        output = {"waited_until": row.resume_at.isoformat() if row.resume_at else None}
        await self._end_waiting(row, graph, run_row, "completed", output, None, None, 0.0)
        return "resumed"

    async def resume_parent(self, parent_step_id: uuid.UUID) -> None:
        """A child run ended: its subworkflow step finishes with the child's output (or fails with it)."""
        row = await WorkflowStep.get_or_none(id=parent_step_id)
        if row is None or row.status != "waiting" or row.child_run_id is None:
            return
        child = await WorkflowRun.get_or_none(id=row.child_run_id)
        if child is None or child.status in ACTIVE_RUN_STATUSES:
            return
        run_row = await WorkflowRun.get(id=row.run_id)
        graph = await graph_for(run_row.workflow_id, run_row.version)
        if child.status == "completed":
            await self._end_waiting(row, graph, run_row, "completed", child.output, None, None, 0.0)
        else:
            error = {"code": f"subworkflow_{child.status}", "message": (child.error or {}).get("message", child.status)}
            await self._end_waiting(row, graph, run_row, "failed", None, None, error, 0.0)

    async def _requeue_waiting(self, row: WorkflowStep, state: dict[str, Any], waited: float) -> None:
        rows = await _db().execute_query_dict(journal.REQUEUE_WAITING, [row.id, _now(), journal.dumps(state), waited])
        if rows:
            await self.runtime.queue.enqueue(STEP_JOB, str(row.id), job_id=step_job_id(row.id, rows[0]["attempt"] + 1))

    async def _end_waiting(
        self,
        row: WorkflowStep,
        graph: Graph,
        run_row: WorkflowRun,
        status: str,
        output: Any,
        branch: str | None,
        error: dict[str, Any] | None,
        waited: float,
    ) -> None:
        """Finish a parked step from `waiting` (once), then as any finished step: successors, events, the run."""
        now = _now()
        entry = journal.attempt_entry(
            row.attempt,
            status=status,
            queued_at=row.ready_at,
            started_at=row.started_at,
            finished_at=now,
            input=row.input,
            output=output,
            error=error,
        )
        run = _run_context(run_row, graph)
        stopped = None
        plan = None
        async with in_transaction() as conn:
            await conn.execute_query(journal.LOCK_RUN, [row.run_id])
            rows = await conn.execute_query_dict(
                journal.FINISH_WAITING,
                [row.id, status, journal.dumps(output), branch, journal.dumps(error), now, waited, entry],
            )
            if not rows:
                return
            if status == "failed":
                stopped = await self._fail_run(conn, run.id, (error or {}) | {"node_id": row.node_id}, now)
            else:
                plan = await self._advance(conn, run, row.node_id, branch, now, take=None)
        fields = {"node_id": row.node_id, "step_id": str(row.id), "iteration": row.iteration, "attempt": row.attempt}
        if stopped is not None or status == "failed":
            await self.runtime.events.append_many(
                run.stream,
                audience=run.audience,
                entries=[
                    ("step_failed", (error or {}).get("message", "failed"), {**fields, "error": error}),
                    (
                        "failed",
                        f"Run failed at {row.node_id}",
                        {
                            "run_id": str(run.id),
                            "workflow_id": str(run.workflow_id),
                            "status": "failed",
                            "error": error,
                        },
                    ),
                ],
            )
            if stopped is not None:
                await self._after_stop(stopped)
            return
        assert plan is not None
        await self.runtime.events.append(
            run.stream,
            "step_completed" if status == "completed" else "step_skipped",
            f"{row.node_id} {status}",
            audience=run.audience,
            **fields,
            branch=branch,
            output=_preview(output),
        )
        await self._after(run, None, None, plan, now)

    # --- loops and child runs -----------------------------------------------------------------

    async def run_iteration(self, step: StepRun, config: LoopConfig, index: int, item: Any) -> Any:
        """Run a loop's inline steps for one item, each a journal row (`<loop>.<step>`, index) finished once."""
        outputs: dict[str, Any] = {}
        last: Any = None
        for sub in config.steps:
            node_id = f"{step.node.id}.{sub.id}"
            rows = await _db().execute_query_dict(
                "INSERT INTO workflow_steps (id, run_id, node_id, iteration, node_type, status, remaining, taken, "
                "need, "
                "wait_all, ready_at, attempt, attempts, waited_seconds, started_at, lease_owner) "
                "VALUES ($1, $2, $3, $4, $5, 'running', 0, 0, 1, true, $6, 1, '[]'::jsonb, 0, $6, $7) "
                "ON CONFLICT (run_id, node_id, iteration) DO UPDATE SET "
                "status = CASE WHEN workflow_steps.status = 'completed' THEN 'completed' ELSE 'running' END, "
                "attempt = workflow_steps.attempt + CASE WHEN workflow_steps.status = 'completed' THEN 0 ELSE 1 END, "
                "lease_owner = CASE WHEN workflow_steps.status = 'completed' THEN NULL ELSE $7 END "
                "RETURNING id, status, output, attempt",
                [uuid.uuid4(), step.run.id, node_id, index, sub.type, _now(), step.owner],
            )
            row = rows[0]
            if row["status"] == "completed":
                last = outputs[sub.id] = journal.loads(row["output"])
                continue
            sub_step = StepRun(
                id=row["id"],
                node=sub,
                iteration=index,
                attempt=row["attempt"],
                ready_at=None,
                started_at=_now(),
                state=None,
                approval_id=None,
                child_run_id=None,
                run=step.run,
                engine=self,
                owner=step.owner,
            )
            scope = output_scope(step.run.input, {**step.run.outputs, **outputs}, item=item, index=index)
            sub_config = node_config(sub)
            if sub.type not in nodes.INLINE_TYPES:
                raise StepFailed("unsupported_in_loop", f"A {sub.type} step cannot run inside a loop", retryable=False)
            try:
                done = await nodes.EXECUTORS[sub.type](sub_step, sub_config, scope)
            except TemplateFailed as exc:
                raise nodes.template_failure(exc) from exc
            if isinstance(done, Park):
                raise StepFailed("unsupported_in_loop", f"{sub.id} would wait inside a loop", retryable=False)
            now = _now()
            entry = journal.attempt_entry(
                row["attempt"],
                status="completed",
                queued_at=None,
                started_at=sub_step.started_at,
                finished_at=now,
                input=done.input,
                output=done.output,
            )
            await _db().execute_query(
                journal.FINISH,
                [
                    row["id"],
                    step.owner,
                    "completed",
                    journal.dumps(done.output),
                    done.branch,
                    None,
                    journal.dumps(done.input),
                    now,
                    entry,
                ],
            )
            last = outputs[sub.id] = done.output
        return last

    async def start_child(self, step: StepRun, workflow_id: str, version: int, child_input: Any) -> uuid.UUID:
        """Start (once) the child run of a subworkflow step, acting as the parent's person."""
        from switchboard.workflows import runs

        child = await runs.start_child_run(
            self.runtime, step.run, parent_step_id=step.id, workflow_id=workflow_id, version=version, input=child_input
        )
        return child.id

    # --- who the run acts as, and its model ---------------------------------------------------

    async def principal(self, run: RunContext) -> Principal:
        """The acting person's principal, read again every few seconds (permissions at the time of the step)."""
        if run.principal is None or time.monotonic() - run.principal_at > PRINCIPAL_TTL_S:
            try:
                run.principal = await principal_for(
                    run.acting_user_id, auth_method="workflow", ip=None, org_id=run.org_id
                )
            except AppError as exc:
                raise StepFailed(
                    "principal_gone", "The person this run acts as is no longer in the org", retryable=False
                ) from exc
            run.policies = None
            run.principal_at = time.monotonic()
        return run.principal

    async def policies(self, run: RunContext) -> Any:
        """The acting person's agent and tool settings, read again with their principal."""
        principal = await self.principal(run)
        if run.policies is None:
            from switchboard.agents.policies import load_policies

            run.policies = await load_policies(principal)
        return run.policies

    async def model_for(self, principal: Principal) -> tuple[Any, Any]:
        """The person's own model, else the platform's; a step fails when there is none."""
        from switchboard.agents.model_settings import chat_model_for
        from switchboard.agents.providers.openai_compat import OpenAIChatModel

        own = await chat_model_for(principal, self.runtime.settings)
        if own is not None:
            return own, own.close
        settings = self.runtime.settings
        if not settings.chat_base_url:
            raise StepFailed("no_model", "No chat model is configured for agent steps", retryable=False)
        model = OpenAIChatModel(
            base_url=settings.chat_base_url, api_key=settings.chat_api_key or "none", model=settings.chat_model
        )
        return model, model.close

    async def post_delivery(self, url: str, body: bytes, headers: dict[str, str], wait_s: float) -> httpx.Response:
        """POST a delivery to a public address, or one in the private networks the http agent may reach: to the
        address checked, whatever the name resolves to a moment later (DNS rebinding), its name as Host and SNI."""
        target = await check_public_url(url, self.runtime.settings.http_agent_private_networks)
        async with self.deliveries.sending(target, "POST", content=body, headers=headers, timeout=wait_s) as response:
            await response.aread()
        return response

    def _step_fields(self, step: StepRun) -> dict[str, Any]:
        return {
            "workflow_id": str(step.run.workflow_id),
            "node_id": step.node.id,
            "step_id": str(step.id),
            "iteration": step.iteration,
            "attempt": step.attempt,
            "node_type": step.node.type,
        }


CANCEL_CHANNEL = "sb:workflows:cancel"


def engine_for(runtime: Runtime, registry: Registry | None = None) -> Engine:
    """This process's engine (made on first use)."""
    try:
        return runtime.resource(Engine)
    except LookupError:
        engine = Engine(runtime, registry)
        runtime.provide(engine)
        return engine


class _Key:
    """Just the primary key of a step row, for `Lease.update` (which needs nothing else)."""

    def __init__(self, pk: uuid.UUID) -> None:
        self.pk = pk


class _Plan:
    def __init__(
        self,
        ready: list[tuple[uuid.UUID, str, str]],
        skipped: list[tuple[uuid.UUID, str]],
        claimed: tuple[uuid.UUID, str, int] | None,
        ended: tuple[str, Any] | None,
        parent_step_id: uuid.UUID | None,
    ) -> None:
        self.ready, self.skipped, self.claimed, self.ended, self.parent_step_id = (
            ready,
            skipped,
            claimed,
            ended,
            parent_step_id,
        )


@dataclass
class _Settled:
    """What the step's own statement (`journal.SETTLE`) did."""

    ready: list[tuple[uuid.UUID, str, str]]
    skipped: list[tuple[uuid.UUID, str]]
    claimed: tuple[uuid.UUID, str, int] | None
    open_steps: int
    status: str
    parent_step_id: uuid.UUID | None


class _Stopped:
    def __init__(
        self,
        run_id: uuid.UUID,
        workflow_id: uuid.UUID,
        status: str,
        parent_step_id: uuid.UUID | None,
        skipped: list[dict[str, Any]],
        org_id: uuid.UUID,
    ) -> None:
        self.run_id, self.workflow_id, self.status, self.parent_step_id, self.skipped = (
            run_id,
            workflow_id,
            status,
            parent_step_id,
            skipped,
        )
        self.org_id = org_id


journal_entry = tuple[str, str, dict[str, Any]]


def _db() -> BaseDBAsyncClient:
    conn: BaseDBAsyncClient = connections.get("default")
    return conn


def _run_context(run_row: WorkflowRun, graph: Graph) -> RunContext:
    return RunContext(
        id=run_row.id,
        org_id=run_row.org_id,
        workflow_id=run_row.workflow_id,
        version=run_row.version,
        input=run_row.input,
        acting_user_id=run_row.acting_user_id,
        trigger=run_row.trigger,
        graph=graph,
    )


def _entry_with_meta(step: StepRun, done: Done, now: datetime) -> str:
    import json

    entry = json.loads(
        journal.attempt_entry(
            step.attempt,
            status=done.status,
            queued_at=step.ready_at,
            started_at=step.started_at,
            finished_at=now,
            input=done.input,
            output=done.output,
        )
    )
    entry[0].update(done.meta)
    return json.dumps(entry, default=str, separators=(",", ":"))


def _preview(value: Any) -> Any:
    """A step's output as the event stream carries it (large outputs are cut; the run log has them whole)."""
    import json

    text = json.dumps(value, default=str)
    return value if len(text) <= 2000 else text[:2000]


async def _comment(approval: Any) -> str | None:
    from switchboard.approvals import ApprovalDecision

    decisions = await ApprovalDecision.filter(approval_id=approval.id).order_by("created_at")
    comments = [d.comment for d in decisions if d.comment]
    return comments[-1] if comments else None

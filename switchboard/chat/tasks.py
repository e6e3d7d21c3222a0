"""arq jobs of chat: run a task (and resume it after an approval), recover tasks of dead workers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from arq import Retry, cron
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from switchboard.agents import ChatModels
from switchboard.chat import cancels, confirmations, memory
from switchboard.chat.memory import extract_memories
from switchboard.chat.models import ACTIVE_STATUSES, ChatTask, Message
from switchboard.chat.orchestrator import Emitter, Outcome, TaskCancelled, run_task
from switchboard.chat.service import task_stream
from switchboard.chat.steps import cancel_requested
from switchboard.platform import leases
from switchboard.platform.auth import principal_for
from switchboard.platform.errors import AppError
from switchboard.platform.runtime import Runtime

log = logging.getLogger(__name__)

HELD_POLL_SECONDS = 0.25
"""How often a job looks again at a task another job holds (see `_take_when_free`)."""


async def run_chat_task(ctx: dict[str, Any], task_id: str) -> str:
    """Answer one task, streaming each step; safe to run twice and to resume after an approval."""
    runtime: Runtime = ctx["runtime"]
    lease = await _take_when_free(task_id, runtime.settings.chat_task_lease_seconds)
    if lease is None:
        return "finished, gone, or another job holds it"
    task = lease.row
    emit = Recorder(runtime.events, task_stream(task.id), task)
    async with lease.held():
        if task.cancel_requested:
            await _finish(task, emit, runtime, "cancelled", error="Cancelled by the user")
            return "cancelled"
        first_start = task.started_at is None
        task.started_at = task.started_at or datetime.now(UTC)
        await ChatTask.filter(id=task.id).update(
            status="processing", attempts=F("attempts") + 1, started_at=task.started_at
        )
        task.status, task.attempts = "processing", task.attempts + 1  # the lease is ours: nobody else changes them
        await emit(
            "task_started",
            "Working on it" if first_start else "Picking the task up again",
            mode=task.mode,
            conversation_id=str(task.conversation_id),
            data={"resumed": not first_start},
        )
        try:
            principal = await principal_for(task.user_id, auth_method="task", ip=None, org_id=task.org_id)
            outcome = await _until_cancelled(task, run_task(task, principal, runtime, emit), runtime)
        except TaskCancelled:
            await _keep_partial(task, emit)
            await _finish(task, emit, runtime, "cancelled", error="Cancelled by the user")
            return "cancelled"
        except AppError as exc:
            await _finish(task, emit, runtime, "error", error=exc.message)
            return "error"
        except Exception as exc:
            log.exception("chat task %s failed", task.id)
            await _finish(task, emit, runtime, "error", error=f"The task failed unexpectedly ({type(exc).__name__})")
            return "error"
        if outcome.paused:
            await emit.flush()
            await ChatTask.filter(id=task.id).update(status="awaiting_approval", state=task.state)
            return "awaiting approval"
        await _complete(task, emit, outcome, runtime)
    return "completed"


class Recorder(Emitter):
    """The task's emitter that also keeps the answer text written so far and the steps' timeline."""

    def __init__(self, events: Any, stream: str, task: ChatTask) -> None:
        super().__init__(events, stream, task)
        self.text = ""
        # kept in the task's state, so every save of the state keeps it (a paused task resumes it)
        self.timeline: list[dict[str, Any]] = task.state.setdefault("timeline", [])

    async def __call__(self, update_type: str, message: str = "", **fields: Any) -> None:
        if update_type == "text_delta":
            self.text += message
        elif update_type in TIMELINE_TYPES:
            entry = {"type": update_type, "message": message[:300], "at": round(time.time(), 3)}
            for key in ("agent", "tool"):
                if fields.get(key):
                    entry[key] = str(fields[key])
            self.timeline.append(entry)
        await super().__call__(update_type, message, **fields)


TIMELINE_TYPES = frozenset(
    {
        "task_started",
        "mode_selected",
        "plan_created",
        "replan_triggered",
        "hypotheses_updated",
        "agent_started",
        "agent_completed",
        "tool_started",
        "tool_completed",
        "approval_required",
        "approval_resolved",
    }
)
"""The events kept as the stored answer's steps (text deltas and citations are the answer itself)."""


async def _until_cancelled(task: ChatTask, work: Coroutine[Any, Any, Outcome], runtime: Runtime) -> Outcome:
    """Run the task's work until it ends or a cancel of the task is seen (announced, or found on the row at a
    check every `cancels.CHECK_SECONDS`): then the work stops at once (a model stream in flight is closed) and
    `TaskCancelled` is raised."""
    running = asyncio.ensure_future(work)
    stopped = False
    try:
        with cancels.watch_of(runtime).watching(task.id) as announced:
            while not running.done():
                woken = asyncio.ensure_future(announced.wait())
                try:
                    await asyncio.wait(
                        {running, woken}, timeout=cancels.CHECK_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    woken.cancel()
                if running.done():
                    break
                announced.clear()
                if await cancel_requested(task.id):
                    stopped = True
                    running.cancel()
                    await asyncio.gather(running, return_exceptions=True)
                    break
    finally:
        if not running.done():  # this job itself is being cancelled: take the work down with it
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
    if stopped:
        raise TaskCancelled()
    return running.result()


async def _keep_partial(task: ChatTask, emit: Recorder) -> None:
    """A cancelled task keeps the answer written so far as its stored message, with its steps."""
    await emit.flush()
    await ChatTask.filter(id=task.id).update(response=emit.text, state=task.state)
    if emit.text.strip() and not await Message.filter(task_id=task.id, role="assistant").exists():
        await Message.create(
            conversation_id=task.conversation_id, role="assistant", content=emit.text, citations=[], task_id=task.id
        )


async def _take_when_free(task_id: str, lease_seconds: float) -> leases.Lease[ChatTask] | None:
    """The task's lease, once no other job holds it; None when the task is done or gone, or still
    held after a lease's length.

    An approval decided while the job that asked for it is still letting go of the task queues
    the resuming job then: it must run after that job, not give up. If the holder died, its lease
    runs out within `lease_seconds` and this job takes the task over.
    """
    deadline = time.monotonic() + lease_seconds
    while True:
        lease = await leases.take(ChatTask, task_id, seconds=lease_seconds, statuses=ACTIVE_STATUSES)
        if lease is not None or time.monotonic() > deadline:
            return lease
        if not await ChatTask.filter(id=task_id, status__in=ACTIVE_STATUSES).exists():
            return None
        await asyncio.sleep(HELD_POLL_SECONDS)


async def _complete(task: ChatTask, emit: Emitter, outcome: Outcome, runtime: Runtime) -> None:
    async with in_transaction():
        if not await Message.filter(task_id=task.id, role="assistant").exists():
            await Message.create(
                conversation_id=task.conversation_id,
                role="assistant",
                content=outcome.text,
                citations=outcome.citations,
                task_id=task.id,
            )
        await ChatTask.filter(id=task.id).update(
            status="completed",
            response=outcome.text,
            citations=outcome.citations,
            resolved_mode=outcome.mode,
            finished_at=datetime.now(UTC),
            state=task.state,
        )
    await emit(
        "complete",
        "Answer ready",
        response=outcome.text,
        citations=outcome.citations,
        conversation_id=str(task.conversation_id),
        data={"mode": outcome.mode},
    )
    if task.agent is None:  # an agent run's instruction is work to do, not something said about oneself
        await runtime.queue.enqueue("remember_from_task", str(task.id), job_id=f"memories:{task.id}")


async def _finish(task: ChatTask, emit: Emitter, runtime: Runtime, status: str, *, error: str) -> None:
    await ChatTask.filter(id=task.id).update(status=status, error=error, finished_at=datetime.now(UTC))
    await confirmations.void_for_task(task.id, runtime)
    await emit("cancelled" if status == "cancelled" else "error", error, conversation_id=str(task.conversation_id))


async def remember_from_task(ctx: dict[str, Any], task_id: str) -> int:
    """Keep what the user said about themselves in a finished task (the model judges; offline, a heuristic)."""
    runtime: Runtime = ctx["runtime"]
    task = await ChatTask.get_or_none(id=task_id)
    if task is None or task.status != "completed":
        return 0
    principal = await principal_for(task.user_id, auth_method="task", ip=None, org_id=task.org_id)
    chosen = await runtime.resource(ChatModels).choose(principal, runtime.settings)
    try:
        found = await extract_memories(chosen.model, task.question)
    except AppError as exc:  # the model is down: try again a little later, then let it go
        if ctx.get("job_try", 1) < 3:
            raise Retry(defer=ctx.get("job_try", 1) * 10) from exc
        log.warning("no memories kept from task %s: %s", task.id, exc.message)
        return 0
    finally:
        await chosen.aclose()
    for category, content, importance in found:
        await memory.create_memory(
            principal, content, category, importance, source_conversation_id=task.conversation_id
        )
    return len(found)


async def recover_abandoned(ctx: dict[str, Any]) -> int:
    """Queue again the tasks whose worker died (their lease ran out); the inbox expires overdue approvals."""
    runtime: Runtime = ctx["runtime"]
    stale = await leases.abandoned(ChatTask, ("processing",))
    for task_id, lapsed in stale:
        # one job per lapse, however many beats see it before a worker takes it
        job_id = f"chat:{task_id}:recover:{lapsed.timestamp():.3f}"
        await runtime.queue.enqueue("run_chat_task", str(task_id), job_id=job_id)
    return len(stale)


JOBS = [run_chat_task, remember_from_task]
CRON = [cron(recover_abandoned, second=set(range(0, 60, 5)), unique=True, run_at_startup=True)]

"""Workers SIGKILLed in the middle of steps, again and again: every run completes, no finished step runs again."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from switchboard.workflows.models import WorkflowRun, WorkflowStep
from tests.support import processes
from tests.support.accounts import Account
from tests.support.workflow_tools import read_calls, read_starts
from tests.workflows.conftest import run_workflow

RUNS = 50
KILLS = 10
MAX_RUNS = 2 * RUNS  # on a slow machine the first fifty can end before ten kills found a step just begun
STEPS = 5
LEASE_SECONDS = "4"


class Pool:
    """Two worker processes with a short step lease; a killed one is replaced at once."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        # no embedding model to load: a replacement worker is taking jobs within seconds
        self.env = {
            **env,
            "WORKFLOW_STEP_LEASE_SECONDS": LEASE_SECONDS,
            "EMBEDDER": "openai",
            "EMBEDDING_BASE_URL": "http://127.0.0.1:9/v1",
        }
        self.logs = logs
        self.started = 0
        self.workers = [self.start() for _ in range(2)]

    def start(self) -> processes.Proc:
        self.started += 1
        return processes.start_worker(self.env, self.logs / f"worker{self.started}.log")

    def alive(self, pid: int) -> bool:
        return any(w.pid == pid and w.popen.poll() is None for w in self.workers)

    def kill(self, pid: int) -> None:
        victim = next(w for w in self.workers if w.pid == pid)
        os.kill(pid, signal.SIGKILL)
        victim.popen.wait(5)
        self.workers.remove(victim)
        self.workers.append(self.start())

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def pool(process_env: dict[str, str], migrated: None, tmp_path: Path) -> Iterator[Pool]:
    found = Pool(process_env, tmp_path)
    try:
        for worker in found.workers:
            processes.wait_worker_ready(worker)
        yield found
    finally:
        found.stop()


def chain(steps: int) -> dict[str, object]:
    nodes: list[dict[str, object]] = [{"id": "start", "type": "trigger", "config": {"kind": "manual"}}]
    edges = []
    for index in range(steps):
        node_id = f"step{index}"
        nodes.append(
            {
                "id": node_id,
                "type": "tool",
                "config": {"agent": "counter", "tool": "count_call", "arguments": {"label": node_id, "sleep": 0.25}},
            }
        )
        edges.append({"from": nodes[-2]["id"], "to": node_id})
    return {"name": "Slow chain", "nodes": nodes, "edges": edges, "settings": {"max_concurrent_runs": 100}}


@pytest.mark.timeout(360)  # ten worker start-ups on a loaded two-core machine
async def test_runs_survive_repeated_worker_kills_without_repeating_a_finished_step(
    admin: Account, create_workflow, pool: Pool, settings, tool_calls
) -> None:
    workflow = await create_workflow(chain(STEPS))
    run_ids: list[str] = []
    kills = 0
    next_wave = next_kill = time.monotonic()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        now = time.monotonic()
        # runs arrive in waves, so kills keep landing mid-step; more waves while the kills are still short
        more = len(run_ids) < RUNS or (kills < KILLS and len(run_ids) < MAX_RUNS)
        if more and now >= next_wave:
            run_ids += [await run_workflow(admin, workflow["id"], {"n": n}) for n in range(5)]
            next_wave = now + 2.5  # spread over ~25 s, so ten kills land even on a quiet machine
        elif not more and not await WorkflowRun.filter(id__in=run_ids, status__in=("pending", "running")).exists():
            break
        if kills < KILLS and now >= next_kill:
            # a step that began a moment ago is surely still in its tool's 0.25 s (one about to end might
            # finish between this read and the kill)
            fresh = datetime.now(UTC) - timedelta(seconds=0.1)
            holders = await WorkflowStep.filter(run_id__in=run_ids, status="running", started_at__gt=fresh).values_list(
                "lease_owner", flat=True
            )
            # a killed worker's steps stay "running" under its pid until their lease runs out: aim at a live one
            live = sorted({pid for owner in holders if owner and pool.alive(pid := int(owner.split(":")[1]))})
            if live:
                owners = [owner for owner in holders if owner and int(owner.split(":")[1]) == live[0]]
                pool.kill(live[0])
                # on a busy machine the step may have finished between the read and the kill: count a kill only when
                # it left a step unfinished under the dead worker
                if await WorkflowStep.filter(run_id__in=run_ids, status="running", lease_owner__in=owners).exists():
                    kills += 1
                next_kill = now + 1.0

        await asyncio.sleep(0.1)
    assert kills >= KILLS, f"only {kills} kills happened"

    runs = await WorkflowRun.filter(id__in=run_ids)
    unfinished = [r.id for r in runs if r.status != "completed"]
    stuck = (
        await WorkflowStep.filter(run_id__in=unfinished)
        .exclude(status="completed")
        .values("run_id", "node_id", "status", "attempt", "ready_at", "resume_at", "lease_owner", "lease_until")
    )
    assert Counter(r.status for r in runs) == {"completed": len(run_ids)}, (time.monotonic(), stuck)
    steps = await WorkflowStep.filter(run_id__in=run_ids)
    assert len(steps) == len(run_ids) * (STEPS + 1) and {s.status for s in steps} == {"completed"}  # none left running
    finished = {f"wfstep_{s.id.hex}": s.finished_at.timestamp() for s in steps if s.node_type == "tool"}
    for step in steps:
        assert [a["status"] for a in step.attempts].count("completed") == 1, step.attempts
    # no execution of a step's tool began after the journal had it completed
    starts = read_starts(settings.data_dir)
    late = [(key, at) for key, at in starts if at > finished[key]]
    assert late == [], late
    # each step's effect happened; a second one only for a step whose worker died between the effect and the
    # commit (it ran again, with the same idempotency key for the outside world to recognise it)
    effects = Counter(key for _, key in read_calls(settings.data_dir))
    assert set(effects) == set(finished)
    attempts = {f"wfstep_{s.id.hex}": s.attempt for s in steps}
    assert all(attempts[key] >= n for key, n in effects.items())
    # each kill cost the step it interrupted an attempt (a step taken up again after a kill can be interrupted by the
    # next kill too, so count attempts, not steps)
    assert sum(s.attempt - 1 for s in steps) >= kills

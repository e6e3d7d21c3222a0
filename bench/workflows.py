"""The workflow engine, through two separate worker processes: sequential steps, throughput, resuming after approval.

Prints one JSON object:

- `sequential_40_wall_s`: a run of 40 sequential no-op tool steps (after its trigger), from the start
  call to the run's end, every step journaled (committed) as it ends; median of `--repeat` runs, with
  min and max. `overhead_per_step_p50_ms`: the median gap between consecutive steps' ends in those runs
  (the tool itself does nothing, so this is the engine's own time per step).
- `steps_per_s`: 1,000 runs of a 5-node no-op workflow (trigger + 4 tool steps) started by 10
  concurrent callers: steps journaled per second from the first start to the last run's end.
- `approve_to_next_step_p50_ms` / `_p95_ms`: from an approval's decision (the inbox's `decide`,
  which calls the engine's resume handler, as the web process does) to the next step running in a worker.

    python bench/workflows.py [--repeat 10] [--runs 1000] [--approvals 40]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.common import BENCH_SECRET, percentile, servers  # noqa: E402
from switchboard.app import create_app  # noqa: E402
from switchboard.cli import prepare_database  # noqa: E402
from switchboard.config import Settings  # noqa: E402
from switchboard.worker import READY_LOG  # noqa: E402

NOOP_PLUGIN = "bench.workflow_tools:agents"


@contextmanager
def workers(settings: Settings, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` worker processes with the no-op agent (and no embedding model to load)."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "SECRET_KEY": BENCH_SECRET,
        "SWITCHBOARD_DATA_DIR": str(settings.data_dir),
        "LOG_LEVEL": "INFO",  # its ready line; arq also logs a line per job (few here: steps run inline)
        "AGENT_PLUGINS": json.dumps([NOOP_PLUGIN]),
        "EMBEDDER": "openai",
        "EMBEDDING_BASE_URL": "http://127.0.0.1:9/v1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    procs, logs = [], []
    for index in range(count):
        log = settings.data_dir / f"worker{index}.log"
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen([sys.executable, "-m", "switchboard", "worker"], env=env, stdout=out, stderr=out)
            )
        logs.append(log)
    try:
        deadline = time.monotonic() + 120
        for proc, log in zip(procs, logs, strict=True):
            while READY_LOG not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start:\n{log.read_text()}")
                time.sleep(0.05)
        time.sleep(1.0)  # start-up work after the first log line (warm-up, cron at start)
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


def chain(steps: int, name: str) -> dict[str, Any]:
    """A trigger then `steps` sequential no-op tool steps."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "trigger", "config": {"kind": "manual"}}]
    edges = []
    for index in range(steps):
        nodes.append({"id": f"s{index}", "type": "tool", "config": {"agent": "noop", "tool": "noop", "arguments": {}}})
        edges.append({"from": nodes[-2]["id"], "to": nodes[-1]["id"]})
    return {"name": name, "nodes": nodes, "edges": edges, "settings": {"max_concurrent_runs": 1000}}


def approval_flow(approver: str) -> dict[str, Any]:
    """trigger -> approval (one person) -> a no-op step."""
    return {
        "name": "Approve then go on",
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {"id": "review", "type": "approval", "config": {"approvers": {"users": [approver]}, "title": "Go on?"}},
            {"id": "after", "type": "tool", "config": {"agent": "noop", "tool": "noop", "arguments": {}}},
        ],
        "edges": [{"from": "start", "to": "review"}, {"from": "review", "to": "after"}],
        "settings": {"max_concurrent_runs": 1000},
    }


async def _account(client: Any, name: str) -> tuple[str, str]:
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": "correct horse battery staple", "name": name}
    )
    if registered.status_code != 201:
        raise RuntimeError(await registered.get_data(as_text=True))
    login = await (
        await client.post("/api/v1/auth/login", json={"email": email, "password": "correct horse battery staple"})
    ).get_json()
    me = await (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login['access_token']}"})
    ).get_json()
    return login["access_token"], me


async def _wait_end(runtime: Any, run_id: uuid.UUID, limit_s: float = 120) -> None:
    stream, cursor = f"workflow:{run_id}", None
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        for event in await runtime.events.read(stream, cursor, block_ms=1000):
            cursor = event.id
            if event.update_type in ("completed", "failed", "cancelled"):
                if event.update_type != "completed":
                    raise RuntimeError(f"run {run_id} {event.update_type}: {event.payload}")
                return
    raise RuntimeError(f"run {run_id} did not end")


async def measure(settings: Settings, repeat: int, runs: int, approvals: int) -> dict[str, Any]:  # noqa: C901
    from switchboard import contexts
    from switchboard.approvals import decide
    from switchboard.platform.auth import principal_for
    from switchboard.platform.runtime import Runtime
    from switchboard.workflows.models import WorkflowRun, WorkflowStep
    from switchboard.workflows.runs import start_run

    # this task's own database context and clients (the app's live in its serving task)
    runtime = await Runtime.open(settings, contexts.MODEL_APPS)
    await contexts.open_resources(runtime)
    app = create_app(settings)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        token, me = await _account(client, "ada")
        auth = {"Authorization": f"Bearer {token}"}
        bob_token, bob = await _account(client, "bob")
        invited = await (
            await client.post(
                f"/api/v1/orgs/{me['org']['id']}/invitations",
                headers=auth,
                json={"email": bob["email"], "role": "member"},
            )
        ).get_json()
        bob_auth = {"Authorization": f"Bearer {bob_token}"}
        await client.post(f"/api/v1/invitations/{invited['token']}/accept", headers=bob_auth)
        await client.post(f"/api/v1/orgs/{me['org']['id']}/switch", headers=bob_auth)

        async def create(definition: dict[str, Any]) -> str:
            response = await client.post("/api/v1/workflows", headers=auth, json=definition)
            body = await response.get_json()
            if response.status_code != 201:
                raise RuntimeError(body)
            return str(body["id"])

        ada = await principal_for(uuid.UUID(me["id"]), auth_method="bench", ip=None, org_id=uuid.UUID(me["org"]["id"]))
        bob_principal = await principal_for(
            uuid.UUID(bob["id"]), auth_method="bench", ip=None, org_id=uuid.UUID(me["org"]["id"])
        )

        # 1. forty sequential no-op steps, one run at a time
        sequential = await create(chain(40, "Forty"))
        walls, gaps = [], []
        for index in range(repeat + 2):
            began = time.perf_counter()
            run = await start_run(runtime, ada, sequential, input={"i": index})
            await _wait_end(runtime, run.id)
            wall = time.perf_counter() - began
            if index < 2:
                continue  # warm-up: connections, prepared statements, the graph cache of each worker
            walls.append(wall)
            steps = await WorkflowStep.filter(run_id=run.id, node_type="tool").order_by("finished_at")
            ends = [s.finished_at for s in steps if s.finished_at]
            gaps += [(b - a).total_seconds() * 1000 for a, b in itertools.pairwise(ends)]

        # 2. throughput: many runs of a 5-node workflow, started by 10 concurrent callers
        five = await create(chain(4, "Five"))
        started_at = time.perf_counter()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(runs):
            queue.put_nowait(index)
        run_ids: list[uuid.UUID] = []

        async def caller() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                run_ids.append((await start_run(runtime, ada, five, input={"i": index})).id)

        await asyncio.gather(*(caller() for _ in range(10)))
        start_s = time.perf_counter() - started_at
        while await WorkflowRun.filter(id__in=run_ids, status__in=("pending", "running")).exists():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        wall_many = time.perf_counter() - started_at
        failed = await WorkflowRun.filter(id__in=run_ids).exclude(status="completed").count()

        # 3. approve -> the next step running
        flow = await create(approval_flow(bob["id"]))
        latencies = []
        for index in range(approvals + 3):
            run = await start_run(runtime, ada, flow, input={"i": index})
            stream, cursor, approval_id = f"workflow:{run.id}", None, None
            while approval_id is None:
                for event in await runtime.events.read(stream, cursor, block_ms=2000):
                    cursor = event.id
                    if event.update_type == "approval_required":
                        approval_id = event.payload["approval_id"]
            await asyncio.sleep(0.02)
            decided = time.time()
            await decide(bob_principal, approval_id, True, None, runtime=runtime)
            running = None
            while running is None:
                for event in await runtime.events.read(stream, cursor, block_ms=2000):
                    cursor = event.id
                    if event.update_type == "step_started" and event.payload.get("node_id") == "after":
                        running = float(event.payload["timestamp"])
            if index >= 3:
                latencies.append((running - decided) * 1000)
            await _wait_end(runtime, run.id)

    return {
        "benchmark": "workflows",
        "workers": 2,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "sequential_40_wall_s": round(statistics.median(walls), 4),
        "sequential_40_wall_s_min": round(min(walls), 4),
        "sequential_40_wall_s_max": round(max(walls), 4),
        "sequential_40_runs": len(walls),
        "overhead_per_step_p50_ms": round(percentile(gaps, 50), 3),
        "overhead_per_step_p90_ms": round(percentile(gaps, 90), 3),
        "steps_per_s": round(runs * 5 / wall_many, 1),
        "throughput_runs": runs,
        "throughput_wall_s": round(wall_many, 2),
        "throughput_start_s": round(start_s, 2),
        "throughput_failed_runs": failed,
        "approve_to_next_step_p50_ms": round(percentile(latencies, 50), 2),
        "approve_to_next_step_p95_ms": round(percentile(latencies, 95), 2),
        "approve_samples": len(latencies),
        "goals": {
            "sequential_40_wall_s": 0.12,
            "overhead_per_step_p50_ms": 3,
            "steps_per_s": 300,
            "approve_to_next_step_p50_ms": 20,
            "approve_to_next_step_p95_ms": 100,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--approvals", type=int, default=40)
    args = parser.parse_args()
    with servers() as base, ExitStack() as stack:
        settings = base.model_copy(
            update={
                "agent_plugins": [NOOP_PLUGIN],
                "workflow_org_max_concurrent_runs": 100_000,
                "embedder": "openai",
                "embedding_base_url": "http://127.0.0.1:9/v1",
                "rate_limits": {
                    "register": "1000/minute",
                    "login": "1000/minute",
                    "api_user": "100000/minute",
                    "api_ip": "100000/minute",
                },
            }
        )
        asyncio.run(prepare_database(settings))
        stack.enter_context(workers(settings, 2))
        result = asyncio.run(measure(settings, args.repeat, args.runs, args.approvals))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

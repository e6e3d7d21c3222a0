"""Schedules at scale: N schedules due in the same minute, two worker processes ticking on their own clocks.

Every schedule fires the same minute once (`M H D Mo *`); the bench waits for the runs and reports
how many fired, duplicates (more than one run for a schedule's fire time), misses, and lateness:
from the fire time to the run recorded with its first step queued (the trigger step's `ready_at`),
and also to that step started by a worker. The workers tick with their default look-ahead
(SCHEDULE_LOOKAHEAD_SECONDS): runs due within it are written before their fire time, their first
step held until it; `written_ahead` counts those, and `written_after_p99_s` is how long after the
fire time the others were written.

    python bench/schedules.py [--schedules 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from tortoise import connections  # noqa: E402

from bench.common import BENCH_SECRET, percentile, servers  # noqa: E402
from switchboard import contexts  # noqa: E402
from switchboard.cli import prepare_database  # noqa: E402
from switchboard.config import Settings  # noqa: E402
from switchboard.platform.auth import principal_for  # noqa: E402
from switchboard.platform.identity import service as identity  # noqa: E402
from switchboard.platform.runtime import Runtime  # noqa: E402
from switchboard.worker import READY_LOG  # noqa: E402

DEFINITION = {
    "name": "Bench",
    "nodes": [
        {"id": "clock", "type": "trigger", "config": {"kind": "schedule"}},
        {"id": "note", "type": "transform", "config": {"value": {"fired": True}}},
    ],
    "edges": [{"from": "clock", "to": "note"}],
    "settings": {"max_concurrent_runs": 1000},
}


async def prepare(settings: Settings, count: int, lead_s: float) -> datetime:
    """An active workflow and `count` schedules firing once, at the next minute at least `lead_s` away."""
    from switchboard.agents import Registry
    from switchboard.workflows import service
    from switchboard.workflows.definition import Definition

    runtime = await Runtime.open(settings, contexts.MODEL_APPS)
    try:
        user = await identity.register(
            f"bench-{uuid.uuid4().hex[:8]}@example.com",
            "bench password 123",
            "Bench",
            mailer=runtime.mailer,
            settings=settings,
            ip=None,
        )
        principal = await principal_for(user.id, auth_method="jwt", ip=None)
        workflow = await service.create(principal, Definition.model_validate(DEFINITION), Registry())
        await service.change_status(principal, workflow.id, "activate")
        fire = (datetime.now(UTC) + timedelta(seconds=lead_s + 60)).replace(second=0, microsecond=0)
        cron = f"{fire.minute} {fire.hour} {fire.day} {fire.month} *"
        await connections.get("default").execute_query(
            "INSERT INTO workflow_schedules (id, org_id, workflow_id, created_by, cron, timezone, overlap, missed, "
            "catch_up_limit, paused, next_fire_at, missed_count, created_at, updated_at) "
            "SELECT gen_random_uuid(), $1, $2, $3, $4, 'UTC', 'allow', 'run_once', 10, false, $5, 0, now(), now() "
            "FROM generate_series(1, $6)",
            [principal.org_id, workflow.id, principal.user_id, cron, fire, count],
        )
        return fire
    finally:
        await runtime.close()


async def observe(settings: Settings, fire: datetime, count: int, timeout_s: float) -> dict[str, object]:
    runtime = await Runtime.open(settings, contexts.MODEL_APPS)
    db = connections.get("default")
    try:
        deadline = time.monotonic() + max(0.0, (fire - datetime.now(UTC)).total_seconds()) + timeout_s
        while time.monotonic() < deadline:
            ready = await db.execute_query_dict(
                "SELECT count(*) AS n FROM workflow_steps s JOIN workflow_runs r ON r.id = s.run_id "
                "WHERE r.trigger = 'schedule' AND s.node_type = 'trigger' AND s.started_at IS NOT NULL"
            )
            if ready[0]["n"] >= count:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # late duplicates, if any, would show now
        fires = await db.execute_query_dict(
            "SELECT count(DISTINCT schedule_id) AS fired, count(*) AS fire_rows FROM workflow_schedule_fires "
            "WHERE fire_time = $1 AND run_id IS NOT NULL",
            [fire],
        )
        runs = await db.execute_query_dict(
            "SELECT r.idempotency_key, count(*) OVER (PARTITION BY r.idempotency_key) AS same, "
            "extract(epoch FROM greatest(r.created_at, s.ready_at) - $1) AS late, "
            "extract(epoch FROM s.started_at - $1) AS started_late, "
            "extract(epoch FROM r.created_at - $1) AS written "
            "FROM workflow_runs r JOIN workflow_steps s ON s.run_id = r.id AND s.node_type = 'trigger' "
            "WHERE r.trigger = 'schedule'",
            [fire],
        )
    finally:
        await runtime.close()
    lateness = [float(r["late"]) for r in runs if r["late"] is not None]
    started = [float(r["started_late"]) for r in runs if r["started_late"] is not None]
    keys = {r["idempotency_key"] for r in runs}
    written = [float(r["written"]) for r in runs]
    after = [w for w in written if w > 0]
    return {
        "benchmark": "schedules_same_minute",
        "schedules": count,
        "fired": fires[0]["fired"],
        "runs": len(runs),
        "duplicates": len(runs) - len(keys) + (fires[0]["fire_rows"] - fires[0]["fired"]),
        "missed": count - fires[0]["fired"],
        "lateness_p50_s": round(percentile(lateness, 50), 3) if lateness else None,
        "lateness_p99_s": round(percentile(lateness, 99), 3) if lateness else None,
        "lateness_max_s": round(max(lateness), 3) if lateness else None,
        "written_ahead": len(written) - len(after),
        "written_after_p99_s": round(percentile(after, 99), 3) if after else None,
        "first_step_started_p50_s": round(percentile(started, 50), 3) if started else None,
        "first_step_started_p99_s": round(percentile(started, 99), 3) if started else None,
        "target_lateness_p99_s": 1.0,
    }


def start_worker(settings: Settings, index: int) -> subprocess.Popen[bytes]:
    """A `switchboard worker` process ticking every second, with its own log file."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "SECRET_KEY": BENCH_SECRET,
        "SWITCHBOARD_DATA_DIR": str(settings.data_dir),
        "SCHEDULE_TICK_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    }
    log = settings.data_dir / f"worker-{index}.log"
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "switchboard", "worker"], env=env, stdout=out, stderr=out)


def wait_ready(settings: Settings, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 300
    for index, proc in enumerate(procs):
        log = settings.data_dir / f"worker-{index}.log"
        while READY_LOG not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text()}")
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120, help="Seconds after the fire time to wait for runs.")
    args = parser.parse_args()
    with servers() as settings:
        asyncio.run(prepare_database(settings))
        # the workers start before the schedules exist: their start-up is not part of the minute
        procs = [start_worker(settings, i) for i in range(args.workers)]
        try:
            wait_ready(settings, procs)
            fire = asyncio.run(prepare(settings, args.schedules, lead_s=10))
            result = asyncio.run(observe(settings, fire, args.schedules, args.timeout))
            result["workers"] = args.workers
            result["load_avg_1m_after"] = round(os.getloadavg()[0], 1)  # the machine is shared: how busy it was
            result["cpus"] = os.cpu_count()
            print(json.dumps(result), flush=True)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:  # still busy with the runs' steps: it has nothing to finish
                    proc.kill()
                    proc.wait()


if __name__ == "__main__":
    main()

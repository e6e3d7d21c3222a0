"""Job start latency: enqueue in this process -> the job function running in a separate worker process.

Prints one JSON object. Each sample enqueues a self-check and times the gap between the enqueue
call and the job's first event (`task_started`, appended by the job function in the worker).

    python bench/queue.py [--jobs 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

# this file is named like the standard `queue` module: run from the repo root, not from bench/
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.common import percentile, servers, worker_process  # noqa: E402
from switchboard import contexts  # noqa: E402
from switchboard.cli import prepare_database  # noqa: E402
from switchboard.config import Settings  # noqa: E402
from switchboard.platform.runtime import Runtime  # noqa: E402
from switchboard.platform.system import service  # noqa: E402
from switchboard.platform.system.models import SystemCheck  # noqa: E402


async def measure(settings: Settings, jobs: int) -> dict[str, object]:
    runtime = await Runtime.open(settings, contexts.MODEL_APPS)
    latencies: list[float] = []
    try:
        for i in range(jobs + 10):
            check = await SystemCheck.create()
            stream = service.check_stream(check.id)
            sent = time.time()
            await runtime.queue.enqueue("run_system_check", str(check.id), job_id=f"bench:{check.id}")
            cursor = None
            started = None
            while started is None:
                for event in await runtime.events.read(stream, cursor, block_ms=5000):
                    cursor = event.id
                    if event.update_type == "task_started":
                        started = float(event.payload["timestamp"])
            if i >= 10:  # the first jobs warm connections up
                latencies.append((started - sent) * 1000)
            await asyncio.sleep(0.01)
    finally:
        await runtime.close()
    return {
        "benchmark": "queue_job_start_latency",
        "jobs": len(latencies),
        "idle_poll_s": settings.worker_poll_delay,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p90_ms": round(percentile(latencies, 90), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "target_p99_ms": 25,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    args = parser.parse_args()
    with servers() as settings:
        asyncio.run(prepare_database(settings))
        with worker_process(settings):
            result = asyncio.run(measure(settings, args.jobs))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

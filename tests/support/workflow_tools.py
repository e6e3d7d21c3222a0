"""A `counter` agent for tests of the workflow engine, loaded into worker processes through AGENT_PLUGINS.

Each completed call appends one line `<idempotency key> <label>` to `tool-calls.log` in the data
directory, so a test counts from outside the worker how often a step's side effect happened.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from switchboard.agents.registry import Agent, CallContext, Tool
from switchboard.platform.errors import AppError

LOG_NAME = "tool-calls.log"


class CountArgs(BaseModel):
    """Arguments of count_call."""

    label: str = Field(min_length=1, max_length=200)
    sleep: float = Field(0, ge=0, le=30, description="Seconds to work before the effect happens.")
    fail_times: int = Field(0, ge=0, le=10, description="Fail this many times (per step) before succeeding.")


def calls_log(data_dir: str | Path) -> Path:
    """Where the counter writes."""
    return Path(data_dir) / LOG_NAME


def read_calls(data_dir: str | Path) -> list[tuple[str, str]]:
    """Every completed call so far: (label, idempotency key)."""
    path = calls_log(data_dir)
    if not path.exists():
        return []
    calls = []
    for line in path.read_text().splitlines():
        key, _, label = line.partition(" ")
        calls.append((label, key))
    return calls


def read_starts(data_dir: str | Path) -> list[tuple[str, float]]:
    """When each execution of the tool began: (idempotency key, epoch seconds)."""
    path = calls_log(data_dir).with_name("tool-starts.log")
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        key, _, at = line.partition(" ")
        found.append((key, float(at)))
    return found


def agents(runtime: Any) -> list[Agent]:
    """The `counter` agent."""
    log = calls_log(runtime.settings.data_dir)
    tries = log.with_name("tool-tries.log")
    starts = log.with_name("tool-starts.log")

    def append(path: Path, line: str) -> None:
        # one write of one short line with O_APPEND: lines of concurrent workers never interleave
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    async def count_call(ctx: CallContext, args: CountArgs) -> dict[str, Any]:
        append(starts, f"{ctx.idempotency_key} {time.time():.6f}\n")
        if args.fail_times:
            append(tries, f"{ctx.idempotency_key}\n")
            tried = sum(1 for line in tries.read_text().splitlines() if line == ctx.idempotency_key)
            if tried <= args.fail_times:
                raise AppError(f"failing on purpose ({tried})", code="flaky")
        if args.sleep:
            await asyncio.sleep(args.sleep)
        append(log, f"{ctx.idempotency_key} {args.label}\n")
        return {"label": args.label, "key": ctx.idempotency_key, "value": len(args.label)}

    return [
        Agent(
            name="counter",
            description="Counts its calls (tests).",
            tools=(Tool("count_call", "Count one call.", CountArgs, count_call),),
        )
    ]

"""arq jobs of the system context."""

from __future__ import annotations

from typing import Any

from switchboard.platform.system import service


async def run_system_check(ctx: dict[str, Any], check_id: str) -> None:
    """Run one self-check (safe to run twice: a finished check is left alone)."""
    runtime = ctx["runtime"]
    await service.run_check(runtime, runtime.events, check_id)


JOBS = [run_system_check]

"""The engine's per-process start-up and shut-down: the approvals resume handler and the cancel listener."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from switchboard.platform import channels
from switchboard.platform.runtime import Runtime
from switchboard.workflows.engine.runner import CANCEL_CHANNEL, Engine, engine_for


async def start(runtime: Runtime) -> None:
    """Register the resume handler of `workflow_step` approvals and listen for cancelled runs."""
    from switchboard.approvals import register_resume_handler

    async def resume(approval: Any, rt: Runtime) -> None:
        await engine_for(rt).resume_approval(approval)

    register_resume_handler("workflow_step", resume)
    engine_for(runtime).cancel_listener = asyncio.create_task(_listen(runtime), name="workflow-cancel-listener")


async def stop(runtime: Runtime) -> None:
    """Stop the listener and close the engine's clients."""
    engine = runtime.release(Engine)
    if engine is None:
        return
    if engine.cancel_listener is not None:
        engine.cancel_listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await engine.cancel_listener
    await engine.close()


async def _listen(runtime: Runtime) -> None:
    """Cancel this process's steps of each run announced on the cancel channel (the journal stops the rest,
    and steps stop between steps by themselves while the link is down)."""
    cancel = lambda run_id: engine_for(runtime).cancel_local(run_id)  # noqa: E731
    await channels.listen(runtime.redis, CANCEL_CHANNEL, cancel, "workflow cancel listener")

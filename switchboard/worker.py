"""arq workers: every context's jobs, one runtime per process."""

from __future__ import annotations

from typing import Any

from arq.worker import Worker

from switchboard import contexts
from switchboard.config import Settings
from switchboard.platform.queue import redis_settings
from switchboard.platform.runtime import Runtime


def build_worker(settings: Settings, *, ctx: dict[str, Any] | None = None, handle_signals: bool = True) -> Worker:
    """A worker for the resolved settings. Without `ctx`, it opens its own runtime on start-up."""
    assert settings.redis_url, "resolve embedded servers first"

    async def on_startup(worker_ctx: dict[str, Any]) -> None:
        runtime = await Runtime.open(settings, contexts.MODEL_APPS)
        await contexts.open_resources(runtime)
        worker_ctx["runtime"] = runtime

    async def on_shutdown(worker_ctx: dict[str, Any]) -> None:
        runtime = worker_ctx.get("runtime")
        if runtime is not None:
            await contexts.close_resources(runtime)
            await runtime.close()

    owns_runtime = ctx is None
    return Worker(
        functions=contexts.jobs(),
        cron_jobs=contexts.cron_jobs(),
        queue_name=settings.queue_name,
        redis_settings=redis_settings(settings.redis_url),
        on_startup=on_startup if owns_runtime else None,  # type: ignore[arg-type]
        on_shutdown=on_shutdown if owns_runtime else None,  # type: ignore[arg-type]
        ctx=ctx,
        handle_signals=handle_signals,
        poll_delay=settings.worker_poll_delay,
        max_jobs=settings.worker_max_jobs,
        job_timeout=settings.job_timeout,
        max_tries=settings.job_max_tries,
        keep_result=3600,
        log_results=False,
    )

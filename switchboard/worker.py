"""arq workers: every context's jobs, one runtime per process."""

from __future__ import annotations

from typing import Any

from arq.constants import in_progress_key_prefix
from arq.worker import Worker

from switchboard import contexts
from switchboard.config import Settings
from switchboard.platform.queue import redis_settings
from switchboard.platform.runtime import Runtime


class SwitchboardWorker(Worker):
    """arq's worker, without the Redis round trips its poll spends on jobs that are already running.

    A job stays in arq's queue until it finishes, so every poll (every few milliseconds here) reads
    the running jobs again, and arq checks each with WATCH, EXISTS and ZSCORE before finding it
    taken: with 40 documents or 50 chat tasks in flight, well over a hundred round trips per poll
    and a good part of a core. Here the jobs this process runs are skipped outright and the
    in-progress markers of the others are read in one pipeline; arq's own check still guards the
    ones that look free, so two workers never start the same job.
    """

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """Start the queued jobs nobody runs yet."""
        candidates = [job_id for job_id in job_ids if job_id.decode() not in self.tasks]
        if not candidates:
            return
        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in candidates:
                pipe.exists(in_progress_key_prefix + job_id.decode())
            running = await pipe.execute()
        await super().start_jobs([job_id for job_id, taken in zip(candidates, running, strict=True) if not taken])


def build_worker(
    settings: Settings, *, ctx: dict[str, Any] | None = None, handle_signals: bool = True
) -> SwitchboardWorker:
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
    return SwitchboardWorker(
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

"""arq workers: every context's jobs, one runtime per process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from typing import Any

from arq.constants import in_progress_key_prefix
from arq.worker import Worker

from switchboard import contexts
from switchboard.config import Settings
from switchboard.platform.queue import redis_settings, wake_channel

log = logging.getLogger(__name__)

READY_LOG = "worker ready: taking jobs from"
"""What a worker logs (then its queue's name) once it has started up and takes jobs."""


class SwitchboardWorker(Worker):
    """arq's worker, woken by enqueues instead of polling its queue every few milliseconds.

    - Every `Queue.enqueue` publishes on the queue's wake channel (`wake_channel`); the worker
      polls at once when told, when one of its jobs ends (a slot is free), and otherwise every
      `poll_delay` seconds (deferred and retried jobs, cron). A job starts a few milliseconds after
      its enqueue, and an idle worker costs Redis a few polls a second, not two hundred.
    - A job stays in arq's queue until it finishes, so every poll reads the running jobs again,
      and arq checks each with WATCH, EXISTS and ZSCORE before finding it taken. Here the jobs this
      process runs are skipped outright and the in-progress markers of the others are read in one
      pipeline; arq's own check still guards the ones that look free, so two workers never start
      the same job.
    """

    def __init__(self, *args: Any, idle_poll_s: float, **kwargs: Any) -> None:
        # arq's own loop would sleep out its poll delay even after a wake-up: the waiting is done here
        super().__init__(*args, poll_delay=0, **kwargs)
        self._idle_poll_s = idle_poll_s
        self._woken: asyncio.Event | None = None
        self._listener: asyncio.Task[None] | None = None

    async def _poll_iteration(self) -> None:
        await super()._poll_iteration()
        await self._until_woken()

    async def _until_woken(self) -> None:
        if self._woken is None:
            self._woken = asyncio.Event()
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="queue-wake-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self._idle_poll_s)
        self._woken.clear()

    async def _listen(self) -> None:
        """Set the wake event for every announcement on the queue's channel (polling covers a lost link)."""
        assert self._woken is not None
        try:
            async with self.pool.pubsub() as pubsub:
                await pubsub.subscribe(wake_channel(self.queue_name))
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self._woken.set()
        except Exception as exc:  # the next poll starts a new listener
            log.warning("queue wake-ups lost (%s); polling every %ss", exc, self._idle_poll_s)

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        if self._woken is not None:
            self._woken.set()  # a slot is free: take the next queued job now

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        with warnings.catch_warnings():
            # arq 0.28 closes its pool with redis-py's deprecated `close()`; the warning is arq's to fix
            warnings.simplefilter("ignore", DeprecationWarning)
            await super().close()

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
    settings: Settings,
    *,
    ctx: dict[str, Any] | None = None,
    handle_signals: bool = True,
    seams: contexts.Seams | None = None,
) -> SwitchboardWorker:
    """A worker for the resolved settings. Without `ctx`, it opens its own runtime on start-up, on `seams`
    (production's by default); jobs find it in their ctx as `ctx["runtime"]`, with the agent registry on it.
    """
    assert settings.redis_url, "resolve embedded servers first"

    async def on_startup(worker_ctx: dict[str, Any]) -> None:
        runtime = await contexts.open_runtime(settings, seams)
        worker_ctx["runtime"] = runtime
        await contexts.warm_up(runtime)
        log.info("%s %s", READY_LOG, settings.queue_name)

    async def on_shutdown(worker_ctx: dict[str, Any]) -> None:
        runtime = worker_ctx.get("runtime")
        if runtime is not None:
            await contexts.close_runtime(runtime)

    owns_runtime = ctx is None
    return SwitchboardWorker(
        functions=contexts.jobs(),
        cron_jobs=contexts.cron_jobs(),
        queue_name=settings.queue_name,
        redis_settings=redis_settings(settings.redis_url),
        on_startup=on_startup if owns_runtime else None,
        on_shutdown=on_shutdown if owns_runtime else None,
        ctx=ctx,
        handle_signals=handle_signals,
        idle_poll_s=settings.worker_poll_delay,
        max_jobs=settings.worker_max_jobs,
        job_timeout=settings.job_timeout,
        max_tries=settings.job_max_tries,
        keep_result=3600,
        log_results=False,
    )

"""The job queue: a job enqueued once runs once in an arq worker; a deferred one waits its time."""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from typing import Any

from arq.worker import Worker, func

from switchboard.platform.queue import Queue, redis_settings, wake_channel


async def test_a_job_id_is_queued_once_and_runs_in_an_arq_worker(settings, clean):
    queue = await Queue.connect(settings.redis_url, f"test-queue:{uuid.uuid4().hex}")
    calls: list[tuple[str, int]] = []

    async def record(ctx: dict[str, Any], name: str, count: int) -> str:
        calls.append((name, count))
        return "done"

    try:
        assert await queue.enqueue("record", "first", 1, job_id="job-1") is True
        assert await queue.enqueue("record", "again", 2, job_id="job-1") is False  # queued: not twice
        worker = Worker(
            functions=[func(record, name="record")],
            redis_settings=redis_settings(settings.redis_url),
            queue_name=queue.queue_name,
            burst=True,
            poll_delay=0.05,
            handle_signals=False,
        )
        try:
            await worker.main()
        finally:
            with warnings.catch_warnings():  # arq's close calls redis-py's deprecated close()
                warnings.simplefilter("ignore", DeprecationWarning)
                await worker.close()
        assert calls == [("first", 1)]
        # its result is kept, so the same id is still refused (a retried request does not run it twice)
        assert await queue.enqueue("record", "later", 3, job_id="job-1") is False
    finally:
        await queue.close()


async def test_an_enqueue_wakes_the_workers_but_a_deferred_one_waits(settings, clean):
    queue = await Queue.connect(settings.redis_url, f"test-queue:{uuid.uuid4().hex}")
    pubsub = queue.pool.pubsub()
    try:
        await pubsub.subscribe(wake_channel(queue.queue_name))
        assert (await pubsub.get_message(timeout=1))["type"] == "subscribe"
        before = time.time() * 1000
        await queue.enqueue("record", job_id="later", defer_seconds=60)
        await queue.enqueue("record", job_id="now")
        woken = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        assert woken is not None and woken["data"] == b"1"
        await asyncio.sleep(0.1)
        assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1) is None  # one wake, not two
        later = await queue.pool.zscore(queue.queue_name, "later")
        now = await queue.pool.zscore(queue.queue_name, "now")
        assert before + 59_000 < later < time.time() * 1000 + 61_000
        assert before - 1 <= now <= time.time() * 1000 + 1
    finally:
        await pubsub.aclose()
        await queue.close()

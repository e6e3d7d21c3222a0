"""The job queue: arq on a Redis-protocol server."""

from __future__ import annotations

from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.jobs import Job


def redis_settings(url: str) -> RedisSettings:
    """arq's connection settings for a redis:// URL (retries while the server starts)."""
    settings: RedisSettings = RedisSettings.from_dsn(url)
    settings.conn_retries = 10
    settings.conn_retry_delay = 1
    return settings


def wake_channel(queue_name: str) -> str:
    """The pub/sub channel on which enqueues wake the queue's workers."""
    return f"{queue_name}:wake"


class Queue:
    """Hands jobs to workers. Job functions take ids and are safe to run twice."""

    def __init__(self, pool: ArqRedis, queue_name: str) -> None:
        self.pool = pool
        self.queue_name = queue_name

    @classmethod
    async def connect(cls, url: str, queue_name: str) -> Queue:
        """Open a pool for `url`."""
        return cls(await create_pool(redis_settings(url), default_queue_name=queue_name), queue_name)

    async def enqueue(
        self, function: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> Job | None:
        """Queue `function(*args)`; with `job_id`, a second enqueue of the same id is a no-op (returns None).

        Workers are told at once (they poll only now and then otherwise).
        """
        job = await self.pool.enqueue_job(function, *args, _job_id=job_id, _defer_by=defer_seconds)
        if job is not None and not defer_seconds:
            await self.pool.publish(wake_channel(self.queue_name), b"1")
        return job

    async def ping(self) -> None:
        """Raise when the queue's server does not answer."""
        await self.pool.ping()

    async def close(self) -> None:
        """Close the pool."""
        await self.pool.aclose()

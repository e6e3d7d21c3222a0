"""The job queue: arq on a Redis-protocol server."""

from __future__ import annotations

import time
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# arq's enqueue (WATCH the job key, check it and the result key, MULTI/PSETEX/ZADD/EXEC) plus the
# wake-up, as one atomic script: one round trip instead of four, and no WatchError to retry.
_ENQUEUE = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then
    return 0
end
redis.call('PSETEX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
if ARGV[5] == '1' then
    redis.call('PUBLISH', ARGV[6], '1')
end
return 1
"""


def _reconnects() -> Retry:
    """A command whose connection broke is sent again on a new one, for about 10 seconds.

    The server restarting (the embedded Valkey after a crash is back within a second or two)
    then delays the commands made meanwhile instead of failing them: a chat task's progress
    events wait for it rather than ending the task in an error.
    """
    # OSError too: a refused connection (the server not listening yet) is one, and redis-py retries a
    # new connection's connect only on the errors its Retry names
    return Retry(
        ExponentialBackoff(cap=0.5, base=0.05),
        retries=25,
        supported_errors=(RedisConnectionError, RedisTimeoutError, OSError),  # type: ignore[arg-type]
    )


def redis_client(url: str) -> Redis:
    """A client for a redis:// URL whose commands ride out a restart of the server."""
    client: Redis = Redis.from_url(
        url, max_connections=None, retry=_reconnects(), retry_on_error=[RedisConnectionError]
    )
    return client


def redis_settings(url: str) -> RedisSettings:
    """arq's connection settings for a redis:// URL (retries while the server starts, and when it restarts)."""
    settings: RedisSettings = RedisSettings.from_dsn(url)
    settings.conn_retries = 10
    settings.conn_retry_delay = 1
    settings.retry = _reconnects()
    settings.retry_on_error = [RedisConnectionError]
    return settings


def wake_channel(queue_name: str) -> str:
    """The pub/sub channel on which enqueues wake the queue's workers."""
    return f"{queue_name}:wake"


class Queue:
    """Hands jobs to workers. Job functions take ids and are safe to run twice."""

    def __init__(self, pool: ArqRedis, queue_name: str) -> None:
        self.pool = pool
        self.queue_name = queue_name
        self._enqueue = pool.register_script(_ENQUEUE)

    @classmethod
    async def connect(cls, url: str, queue_name: str) -> Queue:
        """Open a pool for `url`."""
        return cls(await create_pool(redis_settings(url), default_queue_name=queue_name), queue_name)

    async def enqueue(self, function: str, *args: Any, job_id: str, defer_seconds: float | None = None) -> bool:
        """Queue `function(*args)` as arq's job `job_id`; False (and nothing queued) while a job of that id
        is queued, running or has a kept result.

        Workers are told at once (they poll only now and then otherwise).
        """
        enqueued_ms = int(time.time() * 1000)
        defer_ms = int(defer_seconds * 1000) if defer_seconds else 0
        job = serialize_job(function, args, {}, None, enqueued_ms, serializer=self.pool.job_serializer)
        queued: int = await self._enqueue(
            keys=[job_key_prefix + job_id, result_key_prefix + job_id, self.queue_name],
            args=[
                defer_ms + self.pool.expires_extra_ms,
                job,
                enqueued_ms + defer_ms,
                job_id,
                "0" if defer_ms else "1",
                wake_channel(self.queue_name),
            ],
        )
        return bool(queued)

    async def ping(self) -> None:
        """Raise when the queue's server does not answer."""
        await self.pool.ping()

    async def close(self) -> None:
        """Close the pool."""
        await self.pool.aclose()

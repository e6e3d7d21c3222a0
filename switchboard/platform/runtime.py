"""The process's shared clients, opened once at start-up and closed at shut-down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from switchboard.config import Settings
from switchboard.platform import db
from switchboard.platform.events import EventLog, RedisEventLog
from switchboard.platform.mailer import Mailer, OutboxMailer
from switchboard.platform.queue import Queue, redis_client
from switchboard.platform.ratelimit import RateLimiter
from switchboard.platform.storage import LocalStorage, Storage


@dataclass
class Runtime:
    """Seams every service and job is handed: database config, queue, event log, storage."""

    settings: Settings
    db_config: dict[str, object]
    redis: Redis
    events: EventLog
    queue: Queue
    storage: Storage
    limiter: RateLimiter
    mailer: Mailer
    # per-process clients the feature contexts open at start-up (embedder, agent registry, ...)
    resources: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def open(cls, settings: Settings, apps: dict[str, str]) -> Runtime:
        """Connect to the database and Redis named by `settings` (which must be resolved)."""
        assert settings.database_url and settings.redis_url, "resolve embedded servers first"
        # The pool is opened whole, now: a burst of requests or jobs never waits for new connections
        # (each costs PostgreSQL a new process, and this one a handshake and the pgvector codec).
        config = db.tortoise_config(settings.database_url, apps, settings.db_pool_max, pool_min=settings.db_pool_max)
        await db.open_database(config)
        await db.ping_database()
        redis = redis_client(settings.redis_url)
        events = RedisEventLog(
            redis,
            retention_seconds=settings.event_retention_seconds,
            max_age_seconds=settings.event_max_age_seconds,
        )
        queue = await Queue.connect(settings.redis_url, settings.queue_name)
        storage = LocalStorage(settings.data_dir / "files")
        limiter = RateLimiter(settings.redis_url, settings.rate_limits)
        mailer = OutboxMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)
        return cls(settings, config, redis, events, queue, storage, limiter, mailer)

    async def close(self) -> None:
        """Close every client."""
        await self.queue.close()
        await self.redis.aclose()
        await db.close_database()

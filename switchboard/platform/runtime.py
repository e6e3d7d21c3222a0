"""The process's shared clients, opened once at start-up and closed at shut-down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from redis.asyncio import Redis

from switchboard.config import Settings
from switchboard.platform import db
from switchboard.platform.events import EventLog, RedisEventLog
from switchboard.platform.mailer import Mailer, OutboxMailer
from switchboard.platform.queue import Queue, redis_client
from switchboard.platform.ratelimit import RateLimiter
from switchboard.platform.security import configure_password_hashing
from switchboard.platform.storage import LocalStorage, Storage

T = TypeVar("T")


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
    # Per-process objects of the feature contexts (the agent registry, the embedder, ...), one per
    # class: `platform` cannot name their types, so each is found by its class (see `resource`).
    _resources: dict[type, object] = field(default_factory=dict, repr=False)

    def provide(self, resource: object) -> None:
        """Keep a context's per-process object (opened at start-up), found again by its class."""
        self._resources[type(resource)] = resource

    def resource(self, kind: type[T]) -> T:
        """The per-process object of that class; `LookupError` when start-up provided none."""
        found = self._resources.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"this process provided no {kind.__name__} at start-up")
        return found

    def release(self, kind: type[T]) -> T | None:
        """Forget the object of that class (at shut-down) and return it, to be closed."""
        found = self._resources.pop(kind, None)
        return found if isinstance(found, kind) else None

    @classmethod
    async def open(
        cls,
        settings: Settings,
        apps: dict[str, str],
        *,
        events: EventLog | None = None,
        storage: Storage | None = None,
        limiter: RateLimiter | None = None,
    ) -> Runtime:
        """Connect to the database and Redis named by `settings` (which must be resolved).

        The seams default to production's: Redis Streams, a local folder, Redis-backed rate limits.
        """
        assert settings.database_url and settings.redis_url, "resolve embedded servers first"
        configure_password_hashing(settings.password_hash_time_cost, settings.password_hash_memory_kib)
        # The pool is opened whole, now: a burst of requests or jobs never waits for new connections
        # (each costs PostgreSQL a new process, and this one a handshake and the pgvector codec).
        config = db.tortoise_config(settings.database_url, apps, settings.db_pool_max, pool_min=settings.db_pool_max)
        await db.open_database(config)
        await db.ping_database()
        redis = redis_client(settings.redis_url)
        if events is None:
            events = RedisEventLog(
                redis,
                retention_seconds=settings.event_retention_seconds,
                max_age_seconds=settings.event_max_age_seconds,
                org_max_len=settings.org_events_max_len,
            )
        queue = await Queue.connect(settings.redis_url, settings.queue_name)
        if storage is None:
            storage = LocalStorage(settings.data_dir / "files")
        if limiter is None:
            limiter = RateLimiter(settings.redis_url, settings.rate_limits)
        mailer = OutboxMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)
        return cls(settings, config, redis, events, queue, storage, limiter, mailer)

    async def close(self) -> None:
        """Close every client."""
        await self.queue.close()
        await self.redis.aclose()
        await db.close_database()

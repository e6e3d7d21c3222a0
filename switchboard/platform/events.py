"""The event log: every step of a task is appended to its stream before anyone sees it.

Streams live in Redis Streams, so a reader that reconnects after id X gets exactly the
events after X, in order, however many processes wrote or read them.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis

from switchboard.platform.errors import ValidationFailed

TERMINAL_TYPES = frozenset({"complete", "error", "cancelled"})

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


@dataclass(frozen=True)
class Event:
    """One step of a task, as stored and as delivered."""

    id: str
    update_type: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        """True for the event that ends a task."""
        return self.update_type in TERMINAL_TYPES

    def as_json(self) -> dict[str, Any]:
        """The event's wire payload, with its id."""
        return {**self.payload, "event_id": self.id}


def parse_last_id(value: str | None) -> str | None:
    """A client's `last_id` / `Last-Event-ID`, checked; 422 when malformed."""
    if value is None or value == "":
        return None
    if not _STREAM_ID.match(value):
        raise ValidationFailed(
            "last_id is not an event id", details=[{"field": "last_id", "message": "expected an id like 1712-0"}]
        )
    return value


class EventLog(Protocol):
    """Append-only per-task event streams."""

    async def append(self, stream: str, update_type: str, message: str = "", **fields: Any) -> Event:
        """Append one event; a terminal type starts the retention countdown."""

    async def read(self, stream: str, after: str | None = None, *, block_ms: int | None = None) -> list[Event]:
        """Events after `after` (all when None); waits up to `block_ms` for the first when there are none."""

    async def read_all(self, stream: str) -> list[Event]:
        """Every event of the stream, in order."""

    async def exists(self, stream: str) -> bool:
        """True while the stream is retained."""

    async def ping(self) -> None:
        """Raise when the backing server does not answer."""


class RedisEventLog:
    """EventLog over Redis Streams, one stream per task."""

    def __init__(self, redis: Redis, *, retention_seconds: int, max_age_seconds: int, prefix: str = "sb:events:"):
        self.redis = redis
        self.retention_seconds = retention_seconds
        self.max_age_seconds = max_age_seconds
        self.prefix = prefix

    def _key(self, stream: str) -> str:
        return self.prefix + stream

    async def append(self, stream: str, update_type: str, message: str = "", **fields: Any) -> Event:
        """Append one event; a terminal type starts the retention countdown."""
        payload = {
            "task_id": stream.rsplit(":", 1)[-1],
            "update_type": update_type,
            "message": message,
            "timestamp": time.time(),
            **fields,
        }
        key = self._key(stream)
        ttl = self.retention_seconds if update_type in TERMINAL_TYPES else self.max_age_seconds
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(key, {"t": update_type, "d": json.dumps(payload, default=str)})
            pipe.expire(key, ttl)
            event_id, _ = await pipe.execute()
        return Event(_text(event_id), update_type, payload)

    async def read(self, stream: str, after: str | None = None, *, block_ms: int | None = None) -> list[Event]:
        """Events after `after` (all when None); waits up to `block_ms` for the first when there are none."""
        reply = await self.redis.xread({self._key(stream): after or "0-0"}, count=500, block=block_ms)
        if not reply:
            return []
        _, entries = reply[0]
        return [_event(entry_id, data) for entry_id, data in entries]

    async def read_all(self, stream: str) -> list[Event]:
        """Every event of the stream, in order."""
        entries = await self.redis.xrange(self._key(stream))
        return [_event(entry_id, data) for entry_id, data in entries]

    async def exists(self, stream: str) -> bool:
        """True while the stream is retained."""
        return bool(await self.redis.exists(self._key(stream)))

    async def ping(self) -> None:
        """Raise when the backing server does not answer."""
        await self.redis.ping()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _event(entry_id: bytes | str, data: dict[Any, Any]) -> Event:
    fields = {_text(k): _text(v) for k, v in data.items()}
    return Event(_text(entry_id), fields["t"], json.loads(fields["d"]))

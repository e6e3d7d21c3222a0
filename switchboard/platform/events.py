"""The event log: every step of a task is appended to its stream before anyone sees it.

Streams live in Redis Streams, so a reader that reconnects after id X gets exactly the
events after X, in order, however many processes wrote or read them.

Blocking reads of one process share ONE reader (`_SharedReader`): a single XREAD BLOCK over
every stream someone in the process waits on, whose events are parsed once and handed to
each waiter. A thousand SSE clients thus cost one Redis connection and one parse per event,
not a blocked connection, a round trip and a parse per client per event.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from redis.asyncio import Redis

from switchboard.platform.errors import ValidationFailed

# chat ends with complete | error | cancelled; a workflow run with completed | failed | cancelled; a document
# with complete | error, or deleted
TERMINAL_TYPES = frozenset({"complete", "error", "cancelled", "completed", "failed", "deleted"})

# One event to append: its type, message and further payload fields.
Entry = tuple[str, str, dict[str, Any]]

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


@dataclass(frozen=True)
class Audience:
    """Who may see a stream's events on its org's live stream (`org_stream`).

    `user_ids` empty: everyone in the org; else only those users (a chat task's owner, an
    approval's approvers). `kind` is what a subscriber filters on.
    """

    org_id: uuid.UUID | str
    kind: str
    user_ids: tuple[str, ...] = ()

    @classmethod
    def of_user(cls, org_id: uuid.UUID | str, kind: str, user_id: uuid.UUID | str) -> Audience:
        """One user's private events."""
        return cls(org_id, kind, (str(user_id),))


def org_stream(org_id: uuid.UUID | str) -> str:
    """The name of an org's live stream: every scoped event of the org, in the order appended."""
    return f"org:{org_id}"


@dataclass(frozen=True)
class Event:
    """One step of a task, as stored and as delivered."""

    id: str
    update_type: str
    payload: dict[str, Any] = field(default_factory=dict)
    # on an org stream only: the users who may see it (None: the whole org)
    audience: tuple[str, ...] | None = None

    @property
    def kind(self) -> str | None:
        """On an org stream: chat | document | workflow | approval."""
        kind = self.payload.get("kind")
        return kind if isinstance(kind, str) else None

    @property
    def terminal(self) -> bool:
        """True for the event that ends a task."""
        return self.update_type in TERMINAL_TYPES

    def as_json(self) -> dict[str, Any]:
        """The event's wire payload, with its id."""
        return {**self.payload, "event_id": self.id}

    @cached_property
    def wire_json(self) -> str:
        """`as_json()` as compact JSON, encoded once however many clients it is sent to."""
        return json.dumps(self.as_json(), default=str, separators=(",", ":"))

    @cached_property
    def sse(self) -> bytes:
        """The event as Server-Sent Events lines (`id`, `event`, `data`), made once for every client."""
        return f"id: {self.id}\nevent: {self.update_type}\ndata: {self.wire_json}\n\n".encode()


LAST_SEQUENCE = 2**64 - 1
"""The highest sequence number of a stream id: an id made of it sorts after every real event of its millisecond."""


def ending(update_type: str, at: datetime, **payload: Any) -> Event:
    """The terminal event of a subject that ended at `at`, told again once its stream has expired.

    Its id is the last one of `at`'s millisecond, so it cannot be mistaken for a real event of the expired
    stream (one of the same millisecond, perhaps the last a client had before the end).
    """
    body = {"update_type": update_type, "timestamp": at.timestamp(), **payload}
    return Event(f"{int(at.timestamp() * 1000)}-{LAST_SEQUENCE}", update_type, body)


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

    async def append(
        self, stream: str, update_type: str, message: str = "", *, audience: Audience | None = None, **fields: Any
    ) -> Event:
        """Append one event; a terminal type starts the retention countdown."""

    async def append_many(
        self, stream: str, entries: Sequence[Entry], *, audience: Audience | None = None
    ) -> list[Event]:
        """Append `(update_type, message, fields)` entries in order, all at once (readers see them together).

        With an `audience`, the same entries go to the org's live stream in the same transaction.
        """

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

    def __init__(
        self,
        redis: Redis,
        *,
        retention_seconds: int,
        max_age_seconds: int,
        prefix: str = "sb:events:",
        org_max_len: int = 100_000,
    ):
        self.redis = redis
        self.org_max_len = org_max_len
        self.retention_seconds = retention_seconds
        self.max_age_seconds = max_age_seconds
        self.prefix = prefix
        self._shared = _SharedReader(redis, wake_key=f"{prefix}_wake:{uuid.uuid4().hex}")

    def _key(self, stream: str) -> str:
        return self.prefix + stream

    async def append(
        self, stream: str, update_type: str, message: str = "", *, audience: Audience | None = None, **fields: Any
    ) -> Event:
        """Append one event; a terminal type starts the retention countdown."""
        (event,) = await self.append_many(stream, [(update_type, message, fields)], audience=audience)
        return event

    async def append_many(
        self, stream: str, entries: Sequence[Entry], *, audience: Audience | None = None
    ) -> list[Event]:
        """Append `(update_type, message, fields)` entries in order, in one transaction: one round trip,
        and a reader gets them in one read.

        With an `audience` each entry is also appended to the org's live stream, in the same
        transaction: no second pass, and the org stream's order is the order of the appends.
        """
        task_id, now = stream.rsplit(":", 1)[-1], time.time()
        payloads = [
            (
                update_type,
                {"task_id": task_id, "update_type": update_type, "message": message, "timestamp": now, **fields},
            )
            for update_type, message, fields in entries
        ]
        key = self._key(stream)
        terminal = any(update_type in TERMINAL_TYPES for update_type, _ in payloads)
        encoded = [(update_type, json.dumps(payload, default=str)) for update_type, payload in payloads]
        async with self.redis.pipeline(transaction=True) as pipe:
            for update_type, data in encoded:
                pipe.xadd(key, {"t": update_type, "d": data})
            pipe.expire(key, self.retention_seconds if terminal else self.max_age_seconds)
            if audience is not None:
                org_key = self._key(org_stream(audience.org_id))
                kind, users = audience.kind, ",".join(audience.user_ids)
                for update_type, data in encoded:
                    entry = {"t": update_type, "d": data, "k": kind, "a": users, "s": stream}
                    pipe.xadd(org_key, entry, maxlen=self.org_max_len)  # type: ignore[arg-type]
                pipe.expire(org_key, self.max_age_seconds)
            results = await pipe.execute()
        event_ids = results[: len(encoded)]
        return [
            Event(_text(event_id), update_type, payload)
            for event_id, (update_type, payload) in zip(event_ids, payloads, strict=True)
        ]

    async def read(self, stream: str, after: str | None = None, *, block_ms: int | None = None) -> list[Event]:
        """Events after `after` (all when None); waits up to `block_ms` for the first when there are none."""
        if block_ms:
            return await self._shared.read(self._key(stream), after or "0-0", block_ms)
        return await _read_now(self.redis, self._key(stream), after or "0-0")

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


READ_COUNT = 500  # events per stream per XREAD


async def _read_now(redis: Redis, key: str, after: str, block_ms: int | None = None) -> list[Event]:
    """Events of one stream after `after`, from Redis; with `block_ms`, waiting that long for the first."""
    reply = await redis.xread({key: after}, count=READ_COUNT, block=block_ms)
    if not reply:
        return []
    _, entries = reply[0]
    return [_event(entry_id, data) for entry_id, data in entries]


def order_of(event_id: str) -> tuple[int, int]:
    """A stream id as (milliseconds, sequence), which sorts as the stream does."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


class _Waiter:
    __slots__ = ("after", "future", "timer")

    def __init__(self, after: tuple[int, int], future: asyncio.Future[list[Event]]) -> None:
        self.after, self.future = after, future
        self.timer: asyncio.TimerHandle | None = None


class _Watch:
    """A stream the shared reader follows: how far it has read, who waits on it, what it read lately.

    `recent` holds the last `RECENT` events read, in order; every event after `covered` up to
    `position` is in it (the reader's XREADs run on from where the last one ended).
    """

    RECENT = 256

    def __init__(self, position: str) -> None:
        self.position, self.order = position, order_of(position)
        self.covered = self.order
        self.recent: deque[tuple[tuple[int, int], Event]] = deque()
        self.waiters: list[_Waiter] = []
        self.idle_since = time.monotonic()

    def record(self, events: list[Event], orders: list[tuple[int, int]]) -> None:
        """Events just read (after `position`): they are the new position and the newest of `recent`."""
        self.position, self.order = events[-1].id, orders[-1]
        self.recent.extend(zip(orders, events, strict=True))
        while len(self.recent) > self.RECENT:
            self.covered = self.recent.popleft()[0]

    def since(self, order: tuple[int, int]) -> list[Event] | None:
        """The events after `order` from memory; None when some of them are no longer (or never were) held."""
        if order < self.covered:
            return None
        return [event for at, event in self.recent if at > order]


class _SharedReader:
    """One blocking XREAD, on one connection, for every stream this process's readers wait on.

    A waiter whose cursor is at or past where the reader reads its stream just registers: the
    reader's XREAD returns anything after it. One a little behind (a client that was busy
    writing the last batch while the next one came) catches up from the events the reader read
    lately, without a round trip; one further behind reads from Redis. A stream new to the
    reader wakes it with an entry on a private wake stream, so that its next XREAD includes it.
    A stream nobody waited on for LINGER_SECONDS is dropped, and so is one whose terminal event
    was handed out: every XREAD names all the streams it follows, so each one followed for
    nothing makes every read dearer.
    """

    BLOCK_MS = 5000
    LINGER_SECONDS = 2.0
    FOLLOWER_TURNS = 4

    def __init__(self, redis: Redis, *, wake_key: str) -> None:
        self.redis = redis
        self.wake_key = wake_key
        self.wake_position = "0-0"
        self.wake_pending = False
        self.watches: dict[str, _Watch] = {}
        self.task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def read(self, key: str, after: str, block_ms: int) -> list[Event]:
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # a new event loop (tests): nothing of the old one is usable
            self.loop, self.task, self.watches = loop, None, {}
        order = order_of(after)
        for _ in range(3):
            watch = self.watches.get(key)
            if watch is not None and order >= watch.order:
                return await self._wait(watch, order, block_ms)
            if watch is not None and (held := watch.since(order)):
                return held
            caught_up = await _read_now(self.redis, key, after)
            if caught_up:
                return caught_up
            if key not in self.watches:
                self.watches[key] = _Watch(after)
                self._start()
                await self._wake()
        # the watch keeps moving past a reader that keeps finding nothing (a stream made again): read directly
        return await _read_now(self.redis, key, after, block_ms)

    async def _wait(self, watch: _Watch, order: tuple[int, int], block_ms: int) -> list[Event]:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(order, loop.create_future())
        waiter.timer = loop.call_later(block_ms / 1000, _expire, waiter)
        watch.waiters.append(waiter)
        self._start()
        try:
            return await waiter.future
        finally:
            waiter.timer.cancel()
            if waiter in watch.waiters:
                watch.waiters.remove(waiter)
            watch.idle_since = time.monotonic()

    def _start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="event-log-reader")

    async def _wake(self) -> None:
        if self.wake_pending or self.task is None:
            return
        self.wake_pending = True
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(self.wake_key, {"w": "1"}, maxlen=1, approximate=False)
            pipe.expire(self.wake_key, 3600)
            await pipe.execute()

    async def _run(self) -> None:
        conn = self.redis.client()
        try:
            while self._prune():
                self.wake_pending = False
                streams = {self.wake_key: self.wake_position, **{k: w.position for k, w in self.watches.items()}}
                reply = await conn.xread(streams, count=READ_COUNT, block=self.BLOCK_MS)  # type: ignore[arg-type]
                for raw_key, entries in reply or []:
                    key = _text(raw_key)
                    if key == self.wake_key:
                        self.wake_position = _text(entries[-1][0])
                    elif (watch := self.watches.get(key)) is not None and entries:
                        self._deliver(key, watch, [_event(entry_id, data) for entry_id, data in entries])
                if reply:
                    await self._let_followers_write()
        except Exception as exc:  # the connection failed: so does every waiting read (their callers decide)
            for watch in self.watches.values():
                for waiter in watch.waiters:
                    if not waiter.future.done():
                        waiter.future.set_exception(exc)
            self.watches = {}
        finally:
            await conn.aclose()

    async def _let_followers_write(self) -> None:
        """Give the followers just woken a few turns of the event loop before the next XREAD.

        A follower's write takes several turns (the ASGI send, the server's protocol, the
        transport). An XREAD sent at once, while those writes are still queued, comes back with the
        one or two events appended meanwhile, and every follower of those streams writes again; one
        sent after them finds everything that came during the writes, for one write per follower.
        Under load that is fewer XREADs and fewer, larger writes (1,000 followers: p99 from the
        XADD 11-13 ms instead of 32-40); idle, the turns cost microseconds.
        """
        for _ in range(self.FOLLOWER_TURNS):
            await asyncio.sleep(0)

    def _deliver(self, key: str, watch: _Watch, events: list[Event]) -> None:
        orders = [order_of(e.id) for e in events]
        watch.record(events, orders)
        for waiter in list(watch.waiters):
            if waiter.after < orders[0]:
                fresh = events
            else:
                fresh = [e for e, o in zip(events, orders, strict=True) if o > waiter.after]
            if fresh and not waiter.future.done():
                waiter.future.set_result(fresh)
                watch.waiters.remove(waiter)
        if events[-1].terminal and not watch.waiters:
            # the task has ended: stop asking Redis for its stream (a later reader finds the end there)
            del self.watches[key]

    def _prune(self) -> bool:
        """Drop streams nobody waited on for a while; False when none are left."""
        now = time.monotonic()
        for key, watch in list(self.watches.items()):
            if not watch.waiters and now - watch.idle_since > self.LINGER_SECONDS:
                del self.watches[key]
        return bool(self.watches)


def _expire(waiter: _Waiter) -> None:
    if not waiter.future.done():
        waiter.future.set_result([])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _event(entry_id: bytes | str, data: dict[Any, Any]) -> Event:
    fields = {_text(k): _text(v) for k, v in data.items()}
    payload = json.loads(fields["d"])
    if "k" not in fields:
        return Event(_text(entry_id), fields["t"], payload)
    # an org stream's entry: what it is about, and who may see it
    payload["kind"], payload["stream"] = fields["k"], fields["s"]
    audience = tuple(fields["a"].split(",")) if fields["a"] else None
    return Event(_text(entry_id), fields["t"], payload, audience)


def parse_entries(entries: Sequence[tuple[Any, dict[Any, Any]]]) -> list[Event]:
    """Events from raw stream entries (XREAD / XRANGE replies)."""
    return [_event(entry_id, data) for entry_id, data in entries]

"""The org live stream's fan-out: one reader per org stream per process, many subscribers.

A subscriber is one SSE or WebSocket client: a user in an org, with an optional filter of
kinds. The process follows each org stream somebody here listens to with ONE blocking XREAD
on its own connection; each event read is parsed once and handed only to the subscribers who
may see it (an event for one user goes to that user's subscribers through a dict lookup, not a
check per subscriber), so a thousand clients of one org cost one read and one parse per event.

Resuming is the subscriber's own business (`Subscription.backlog`): it registers first, reads
what it missed from Redis, and then skips what it buffered meanwhile up to the last id it read,
so nothing is lost and nothing repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Iterable
from typing import Any

from redis.asyncio import Redis

from switchboard.platform.events import Event, org_stream, parse_entries

BLOCK_MS = 5000
READ_COUNT = 1000
BACKLOG_LIMIT = 10_000  # events one resume may replay; further behind, it ends with `overflow` after them
BUFFER_LIMIT = 5_000  # events buffered for a client that does not read; past it, it is dropped


class Subscription:
    """One client's view of its org's live stream: events it may see, buffered until it takes them."""

    def __init__(self, hub: OrgHub, org_id: str, user_id: str, kinds: frozenset[str] | None) -> None:
        self.hub, self.org_id, self.user_id, self.kinds = hub, org_id, user_id, kinds
        self.buffer: list[Event] = []
        self.ready = asyncio.Event()
        self.overflowed = False

    def visible(self, event: Event) -> bool:
        """True for an event this subscriber may see and asked for."""
        if event.audience is not None and self.user_id not in event.audience:
            return False
        return self.kinds is None or event.kind in self.kinds

    def offer(self, event: Event) -> None:
        """An event routed here by the reader (already known to be visible to this user)."""
        if self.kinds is not None and event.kind not in self.kinds:
            return
        if len(self.buffer) >= BUFFER_LIMIT:
            self.overflowed = True
        else:
            self.buffer.append(event)
        self.ready.set()

    async def backlog(self, after: str) -> list[Event]:
        """Events after `after` that this subscriber may see, read from Redis (a resume).

        A resume further behind than BACKLOG_LIMIT gets that much and then `overflow` (it reconnects
        from its last id for the rest), never a silent gap.
        """
        found = await self.hub.read_after(self.org_id, after, self.visible)
        if len(found) >= BACKLOG_LIMIT:
            self.overflowed = True
        return found

    async def next_batch(self, idle_seconds: float) -> list[Event]:
        """What arrived since the last call; empty after `idle_seconds` of nothing."""
        if not self.buffer:
            self.ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), idle_seconds)
        batch, self.buffer = self.buffer, []
        return batch

    def close(self) -> None:
        """Stop receiving events."""
        self.hub.unsubscribe(self)


class _OrgFeed:
    """One org stream followed by this process, and its subscribers by user."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.everyone: set[Subscription] = set()
        self.by_user: dict[str, set[Subscription]] = {}
        self.task: asyncio.Task[None] | None = None
        self.position = "$"
        self.started = asyncio.Event()

    def add(self, sub: Subscription) -> None:
        self.everyone.add(sub)
        self.by_user.setdefault(sub.user_id, set()).add(sub)

    def remove(self, sub: Subscription) -> None:
        self.everyone.discard(sub)
        users = self.by_user.get(sub.user_id)
        if users is not None:
            users.discard(sub)
            if not users:
                del self.by_user[sub.user_id]

    def route(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.audience is None:
                for sub in self.everyone:
                    sub.offer(event)
                continue
            for user_id in event.audience:
                for sub in self.by_user.get(user_id, ()):
                    sub.offer(event)


class OrgHub:
    """Per process: the org streams followed, each by one reader task, and their subscribers."""

    def __init__(self, redis: Redis, *, prefix: str = "sb:events:") -> None:
        self.redis, self.prefix = redis, prefix
        self.feeds: dict[str, _OrgFeed] = {}

    def _key(self, org_id: str) -> str:
        return self.prefix + org_stream(org_id)

    async def subscribe(self, org_id: str, user_id: str, kinds: frozenset[str] | None = None) -> Subscription:
        """Register a client; from now on it buffers every new event of the org that it may see."""
        sub = Subscription(self, org_id, user_id, kinds)
        feed = self.feeds.get(org_id)
        if feed is None or feed.task is None or feed.task.done():
            feed = self.feeds[org_id] = _OrgFeed(self._key(org_id))
            # a context of its own: the reader outlives the request that started it, and holds none of it
            feed.task = asyncio.get_running_loop().create_task(
                self._follow(feed), name=f"org-feed-{org_id}", context=contextvars.Context()
            )
        feed.add(sub)
        try:
            await feed.started.wait()
        except BaseException:  # the client left while the reader started: nobody will close this one
            self.unsubscribe(sub)
            raise
        return sub

    async def close(self) -> None:
        """Stop every org's reader (the process is shutting down)."""
        tasks = [feed.task for feed in self.feeds.values() if feed.task is not None]
        self.feeds.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a client; the org's reader stops with its last client."""
        feed = self.feeds.get(sub.org_id)
        if feed is None:
            return
        feed.remove(sub)
        if not feed.everyone and feed.task is not None:
            feed.task.cancel()
            del self.feeds[sub.org_id]

    async def read_after(self, org_id: str, after: str, keep: Callable[[Event], bool] = lambda _: True) -> list[Event]:
        """Events of the org stream after `after` that `keep` keeps, from Redis (at most BACKLOG_LIMIT)."""
        events: list[Event] = []
        cursor = after
        while len(events) < BACKLOG_LIMIT:
            entries = await self.redis.xrange(self._key(org_id), min=f"({cursor}", count=READ_COUNT)
            if not entries:
                break
            batch = parse_entries(entries)
            events.extend(e for e in batch if keep(e))
            cursor = batch[-1].id
        return events[:BACKLOG_LIMIT]

    async def _follow(self, feed: _OrgFeed) -> None:
        conn = self.redis.client()
        try:
            # start from the newest event now, so that a subscriber registered before this read misses nothing
            newest = await conn.xrevrange(feed.key, count=1)
            feed.position = _id(newest[0][0]) if newest else "0-0"
            feed.started.set()
            while True:
                reply: Any = await conn.xread({feed.key: feed.position}, count=READ_COUNT, block=BLOCK_MS)
                for _, entries in reply or []:
                    if not entries:
                        continue
                    events = parse_entries(entries)
                    feed.position = events[-1].id
                    feed.route(events)
                if reply:
                    # let the woken subscribers write before the next read (fewer, larger writes under load)
                    for _ in range(4):
                        await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis went away: every subscriber ends, and reconnects with its last id
            for sub in list(feed.everyone):
                sub.overflowed = True
                sub.ready.set()
            self.feeds.pop(next((k for k, f in self.feeds.items() if f is feed), ""), None)
        finally:
            feed.started.set()
            await conn.aclose()


def _id(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

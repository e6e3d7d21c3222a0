"""Listening on a Redis-protocol pub/sub channel for as long as a process runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from redis.asyncio import Redis

log = logging.getLogger(__name__)


async def listen(redis: Redis, channel: str, on_message: Callable[[str], object], what: str) -> None:
    """Call `on_message` with each message's text, until cancelled; a lost link is logged and listened to again.

    Announcements on a channel are hints (whoever needs the truth reads it elsewhere), so a message sent
    while the link is down is simply missed.
    """
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.subscribe(channel)
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        data = message["data"]
                        on_message(data.decode() if isinstance(data, bytes) else str(data))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s lost its link (%r); listening again", what, exc)
            await asyncio.sleep(1)

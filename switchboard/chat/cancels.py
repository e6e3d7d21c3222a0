"""Stopping a running chat task at once: a cancel is announced on a channel every worker listens to.

The task's `cancel_requested` flag stays the truth. The announcement only wakes the job running the task
to read it now; a worker that missed one (its link to the server dropped, or it was still subscribing)
reads the flag at its next check, every `CHECK_SECONDS`. So a running task costs one read of its row every
`CHECK_SECONDS`, not one every fraction of a second, and a cancel lands within milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator

from switchboard.platform import channels
from switchboard.platform.runtime import Runtime

log = logging.getLogger(__name__)

CHANNEL = "sb:chat:cancel"
CHECK_SECONDS = 2.0


class CancelWatch:
    """This process's running tasks, woken when a cancel of theirs is announced (one listener, started on first use)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._listener: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def watching(self, task_id: uuid.UUID | str) -> Iterator[asyncio.Event]:
        """An event set whenever a cancel of `task_id` is announced, while the block runs."""
        if self._listener is None or self._listener.done():
            # tasks still read their flag every CHECK_SECONDS while its link is down
            listening = channels.listen(self.runtime.redis, CHANNEL, self._announced, "chat cancel listener")
            self._listener = asyncio.create_task(listening, name="chat-cancel-listener")
        key, announced = str(task_id), asyncio.Event()
        self._waiting.setdefault(key, set()).add(announced)
        try:
            yield announced
        finally:
            waiting = self._waiting.get(key, set())
            waiting.discard(announced)
            if not waiting:
                self._waiting.pop(key, None)

    def _announced(self, task_id: str) -> None:
        for announced in self._waiting.get(task_id, ()):
            announced.set()

    async def close(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None


def watch_of(runtime: Runtime) -> CancelWatch:
    """This process's watch (made on first use)."""
    try:
        return runtime.resource(CancelWatch)
    except LookupError:
        watch = CancelWatch(runtime)
        runtime.provide(watch)
        return watch


async def announce(runtime: Runtime, task_id: uuid.UUID | str) -> None:
    """Wake the job running the task to read its cancel flag now (the flag is set already: if the announcement
    cannot go out, the job still reads it within `CHECK_SECONDS`)."""
    try:
        await runtime.redis.publish(CHANNEL, str(task_id))
    except Exception as exc:
        log.warning("announcing the cancel of task %s failed (%r); its job reads the flag shortly", task_id, exc)

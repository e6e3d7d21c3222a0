"""A chat task's events on their way to its stream: appended in order, batched while an append is in flight."""

from __future__ import annotations

import asyncio
from typing import Any

from switchboard.chat.models import ChatTask
from switchboard.chat.service import task_audience
from switchboard.platform.events import TERMINAL_TYPES, Entry, EventLog


class Emitter:
    """Appends a task's events to its stream (the stream first, always), in the order they are emitted.

    Emitting does not wait for the append: the first event goes out at once, and those emitted while
    it is in flight go out together in the next append (one round trip, and a reader gets them in
    one read). Text deltas of the same agent and step emitted meanwhile become one `text_delta`: a
    model streaming at its own pace gets an event per token, while text produced faster than it can
    be appended (the offline responder, a fast model, a busy event log) costs a few events instead
    of one per word. A terminal event, and `flush()`, wait until everything emitted is appended; an
    append that failed fails the next emit or flush.
    """

    def __init__(self, events: EventLog, stream: str, task: ChatTask) -> None:
        self.events, self.stream, self.task = events, stream, task
        # the owner's live stream gets the same events, in the same append
        self.audience = task_audience(task.org_id, task.user_id) if task is not None else None
        self._pending: list[Entry] = []
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self, update_type: str, message: str = "", **fields: Any) -> None:
        """Hand one event over to be appended (a terminal one: and wait until it is)."""
        if self._sender is not None and self._sender.done():
            sender, self._sender = self._sender, None
            sender.result()  # an append that failed fails the step that emits next
        last = self._pending[-1] if self._pending else None
        if update_type == "text_delta" and last is not None and last[0] == "text_delta" and last[2] == fields:
            self._pending[-1] = ("text_delta", last[1] + message, fields)
        else:
            self._pending.append((update_type, message, fields))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send())
        if update_type in TERMINAL_TYPES:
            await self.flush()

    async def flush(self) -> None:
        """Wait until every event handed over is appended (raises if an append failed)."""
        while (sender := self._sender) is not None:
            try:
                await sender
            finally:
                if self._sender is sender:
                    self._sender = None

    async def _send(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            await self.events.append_many(self.stream, batch, audience=self.audience)

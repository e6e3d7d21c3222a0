"""Server-Sent Events: one helper behind every progress endpoint."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from quart import Response

from switchboard.platform.events import Event, EventLog


def format_event(event: Event) -> bytes:
    """`id`, `event` and `data` lines of one event."""
    data = json.dumps(event.as_json(), default=str, separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.update_type}\ndata: {data}\n\n".encode()


async def follow(events: EventLog, stream: str, after: str | None, heartbeat_seconds: float) -> AsyncIterator[bytes]:
    """Every event after `after`, then new ones as they are appended, until a terminal event.

    While nothing happens a comment line goes out every `heartbeat_seconds`, so proxies and
    browsers keep the connection open.
    """
    cursor = after
    yield b": connected\n\n"
    while True:
        batch = await events.read(stream, cursor, block_ms=max(1, int(heartbeat_seconds * 1000)))
        if not batch:
            yield b": heartbeat\n\n"
            continue
        for event in batch:
            yield format_event(event)
            cursor = event.id
            if event.terminal:
                return


def sse_response(body: AsyncIterator[bytes]) -> Response:
    """A streaming `text/event-stream` response that no timeout cuts short."""
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.timeout = None
    return response

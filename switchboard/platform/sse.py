"""Server-Sent Events: one helper behind every progress endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator

from quart import Response

from switchboard.platform.events import EventLog


async def follow(events: EventLog, stream: str, after: str | None, heartbeat_seconds: float) -> AsyncIterator[bytes]:
    """Every event after `after`, then new ones as they are appended, until a terminal event.

    While nothing happens a comment line goes out every `heartbeat_seconds`, so proxies and
    browsers keep the connection open. The events of one read go out as one chunk: a client
    that fell behind catches up in one write, not one write per event.
    """
    cursor = after
    yield b": connected\n\n"
    while True:
        batch = await events.read(stream, cursor, block_ms=max(1, int(heartbeat_seconds * 1000)))
        if not batch:
            yield b": heartbeat\n\n"
            continue
        end = next((i + 1 for i, event in enumerate(batch) if event.terminal), len(batch))
        yield b"".join(event.sse for event in batch[:end])
        if batch[end - 1].terminal:
            return
        cursor = batch[-1].id


def sse_response(body: AsyncIterator[bytes]) -> Response:
    """A streaming `text/event-stream` response that no timeout cuts short."""
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    response.timeout = None
    return response

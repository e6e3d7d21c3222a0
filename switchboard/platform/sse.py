"""Server-Sent Events: one helper behind every progress endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from quart import Response

from switchboard.platform.events import Event, EventLog, order_of


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


async def stream_response(
    events: EventLog, stream: str, after: str | None, heartbeat_seconds: float, *, ended: Sequence[Event] | None
) -> Response:
    """SSE of `stream` from `after`, following it until its terminal event.

    `ended`: for a subject that has ended, the events that tell it (None while it goes on). When its stream has
    expired they are sent instead and the response ends, rather than heartbeats for good. A client resuming
    from one of them gets those after it (none: 204, which tells a browser to stop reconnecting); one resuming
    from an id of the expired stream gets the end again rather than risk missing it.
    """
    if ended is not None and not await events.exists(stream):
        if after is None:
            rest = list(ended)
        elif any(event.id == after for event in ended):
            rest = [event for event in ended if order_of(event.id) > order_of(after)]
        else:
            rest = [event for event in ended if event.terminal]
        if not rest:
            return Response("", status=204)
        return sse_response(_replay(rest))
    return sse_response(follow(events, stream, after, heartbeat_seconds))


async def _replay(stored: Sequence[Event]) -> AsyncIterator[bytes]:
    for event in stored:
        yield event.sse

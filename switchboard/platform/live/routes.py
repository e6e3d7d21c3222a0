"""`/api/v1/events/stream` (SSE) and `/api/v1/events/ws` (WebSocket): the caller's org, live."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from quart import Blueprint, Response, current_app, request, websocket

from switchboard.platform import metrics
from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.events import Event, parse_last_id
from switchboard.platform.live import service
from switchboard.platform.live.hub import OrgHub
from switchboard.platform.openapi import event_stream, long_lived, query_parameter, responds
from switchboard.platform.sse import sse_response
from switchboard.platform.web import resume_point, runtime

live = Blueprint("live", __name__, url_prefix="/api/v1/events")

_with_kinds = query_parameter(
    "kinds",
    "Only these kinds, comma-separated: chat, document, workflow, approval.",
    {"type": "string", "maxLength": 100},
)


def hub() -> OrgHub:
    """This process's fan-out of org streams (made on first use)."""
    found = current_app.extensions.get("org_hub")
    if not isinstance(found, OrgHub):
        found = current_app.extensions["org_hub"] = OrgHub(runtime().redis)
    return found


@live.after_app_serving
async def close_hub() -> None:
    """The org streams' readers stop with the app."""
    found = current_app.extensions.pop("org_hub", None)
    if isinstance(found, OrgHub):
        await found.close()


@live.get("/stream")
@require_user
@long_lived
@_with_kinds
@event_stream("Every event of the active org the caller may see, as it happens (kinds: `?kinds=`)", ends=False)
async def stream() -> Response:
    """SSE of the org's live stream: the caller's chat tasks, documents, workflow runs, approvals for them."""
    kinds = service.parse_kinds(request.args.get("kinds"))
    after = resume_point()
    body = _sse(service.batches(hub(), current_principal(), kinds, after, runtime().settings.sse_heartbeat_seconds))
    # subscribed before the response goes out: a page that saw the stream open (and read its lists then) misses
    # nothing that happens after
    connected = await anext(body)
    return sse_response(_after(connected, body))


async def _sse(batches: AsyncGenerator[list[Event], None]) -> AsyncGenerator[bytes, None]:
    metrics.SSE_OPEN.inc()
    try:
        await anext(batches)  # the subscription is made
        yield b": connected\n\n"
        try:
            async for batch in batches:
                if not batch:
                    yield b": heartbeat\n\n"
                    continue
                metrics.EVENTS_DELIVERED.labels("sse").inc(len(batch))
                yield b"".join(event.sse for event in batch)
        except service.StreamOverflow:
            yield b"event: overflow\ndata: {}\n\n"
    finally:
        metrics.SSE_OPEN.dec()
        await batches.aclose()  # its subscription ends with the response


async def _after(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    try:
        yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()  # the client went: its subscription ends now, not when the generator is collected


def _ws_message(event: Event) -> str:
    return f'{{"id":"{event.id}","event":"{event.update_type}","data":{event.wire_json}}}'


@live.websocket("/ws")
@require_user
@responds(101, "Switching to WebSocket: one JSON message per event, `{id, event, data}`")
async def ws() -> None:
    """WebSocket of the org's live stream (the same events as `/stream`; resume with `?last_id=`)."""
    kinds = service.parse_kinds(websocket.args.get("kinds"))
    after = parse_last_id(websocket.args.get("last_id") or websocket.headers.get("Last-Event-ID"))
    principal, rt = current_principal(), runtime()
    await websocket.accept()
    metrics.SSE_OPEN.inc()
    batches = service.batches(hub(), principal, kinds, after, rt.settings.sse_heartbeat_seconds)
    try:
        async for batch in batches:
            if not batch:
                await websocket.send('{"event":"heartbeat"}')
                continue
            metrics.EVENTS_DELIVERED.labels("ws").inc(len(batch))
            for event in batch:
                await websocket.send(_ws_message(event))
    except service.StreamOverflow:
        await websocket.send('{"event":"overflow"}')
    finally:
        metrics.SSE_OPEN.dec()
        await batches.aclose()

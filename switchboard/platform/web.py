"""Helpers only routes use: the runtime of the running app, request parsing."""

from __future__ import annotations

from quart import current_app, request

from switchboard.platform.events import parse_last_id
from switchboard.platform.runtime import Runtime


def runtime() -> Runtime:
    """The runtime of the app serving this request."""
    rt: Runtime = current_app.extensions["runtime"]
    return rt


def resume_point() -> str | None:
    """Where a reconnecting SSE client left off: `?last_id=` or the `Last-Event-ID` header."""
    return parse_last_id(request.args.get("last_id") or request.headers.get("Last-Event-ID"))

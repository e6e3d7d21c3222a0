"""`Idempotency-Key` on writes that create work: a retried request gets the first answer, not a second task.

The first request with a key claims it in Redis; its answer (status and JSON body) is stored for
a day under the caller and the path. A retry with the same key replays that answer; one that
arrives while the first is still being handled is told so (409), and one that reuses the key for
a different body is refused (422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from quart import Response, current_app, g, make_response, request

from switchboard.platform.errors import Conflict, ValidationFailed

TTL_SECONDS = 24 * 3600
PENDING_SECONDS = 120
HEADER = "Idempotency-Key"

P = ParamSpec("P")
R = TypeVar("R")


def _fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def idempotent(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[Response]]:
    """Replay the stored answer of a request retried with the same `Idempotency-Key` (after `require_user`)."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        key = request.headers.get(HEADER)
        if not key:
            return await _response(await view(*args, **kwargs))
        if len(key) > 200:
            raise ValidationFailed("Idempotency-Key is too long", details=[{"field": HEADER, "message": "max 200"}])
        redis = current_app.extensions["runtime"].redis
        # uploads are fingerprinted by their headers: their bodies stream and are never held whole
        body = b"" if request.mimetype.startswith("multipart/") else await request.get_data(as_text=False)
        raw = body.encode() if isinstance(body, str) else body
        fingerprint = _fingerprint(raw + request.headers.get("Content-Length", "").encode())
        slot = f"sb:idempotency:{g.principal.user_id}:{request.method}:{request.path}:{key}"
        claimed = await redis.set(
            slot, json.dumps({"state": "pending", "fingerprint": fingerprint}), nx=True, ex=PENDING_SECONDS
        )
        if not claimed:
            return await _replay(redis, slot, fingerprint)
        try:
            response = await _response(await view(*args, **kwargs))
        except BaseException:
            await redis.delete(slot)  # a failed attempt may be retried with the same key
            raise
        stored = {
            "state": "done",
            "fingerprint": fingerprint,
            "status": response.status_code,
            "body": await response.get_data(as_text=True),
            "mimetype": response.mimetype,
        }
        await redis.set(slot, json.dumps(stored), ex=TTL_SECONDS)
        return response

    return wrapper


async def _response(result: Any) -> Response:
    response = await make_response(result)
    assert isinstance(response, Response)
    return response


async def _replay(redis: Any, slot: str, fingerprint: str) -> Response:
    raw = await redis.get(slot)
    if raw is None:  # expired between the two calls: too late to tell, refuse rather than guess
        raise Conflict("Retry with a new Idempotency-Key", code="idempotency_expired")
    stored = json.loads(raw)
    if stored["fingerprint"] != fingerprint:
        raise ValidationFailed(
            "This Idempotency-Key was used for a different request",
            code="idempotency_mismatch",
            details=[{"field": HEADER, "message": "reused with another body"}],
        )
    if stored["state"] != "done":
        raise Conflict(
            "The first request with this Idempotency-Key is still being handled", code="idempotency_in_progress"
        )
    response = Response(stored["body"], status=stored["status"], mimetype=stored["mimetype"])
    response.headers["Idempotent-Replayed"] = "true"
    return response

"""What a live-stream client receives: the events it may see, resumed exactly, with heartbeats."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

from switchboard.platform.auth import Principal, still_allowed
from switchboard.platform.errors import ValidationFailed
from switchboard.platform.events import Event, order_of
from switchboard.platform.live.hub import OrgHub

KINDS = frozenset({"chat", "document", "workflow", "approval"})
RECHECK_SECONDS = 15.0
"""How often a stream asks again whether its caller may still see the org (membership, account, key)."""


class StreamOverflow(Exception):
    """The client read too slowly and its buffer filled: it should reconnect with its last id."""


def parse_kinds(value: str | None) -> frozenset[str] | None:
    """`?kinds=chat,workflow` checked against the kinds there are; None for every kind."""
    if not value:
        return None
    kinds = frozenset(k.strip() for k in value.split(",") if k.strip())
    unknown = sorted(kinds - KINDS)
    if unknown or not kinds:
        raise ValidationFailed(
            "Unknown event kind",
            details=[{"field": "kinds", "message": f"expected some of {', '.join(sorted(KINDS))}"}],
        )
    return kinds


async def batches(
    hub: OrgHub, principal: Principal, kinds: frozenset[str] | None, after: str | None, heartbeat_seconds: float
) -> AsyncGenerator[list[Event], None]:
    """Batches of events for one client, in order; an empty batch is a heartbeat. Ends on overflow.

    The first batch, empty, comes as soon as the subscription is made: every event appended after it
    reaches the client. The subscription is registered before the missed events are read, so an event appended
    meanwhile is in the buffer if not in the backlog; the buffer is then skipped up to the last
    id sent. Resuming thus loses nothing and repeats nothing.
    """
    sub = await hub.subscribe(str(principal.org_id), str(principal.user_id), kinds)
    try:
        yield []
        skip_to = None
        if after is not None:
            skip_to = order_of(after)
            backlog = await sub.backlog(after)
            if backlog:
                skip_to = order_of(backlog[-1].id)
                yield backlog
        checked = time.monotonic()
        while not sub.overflowed:
            batch = await sub.next_batch(heartbeat_seconds)
            if time.monotonic() - checked >= RECHECK_SECONDS:
                if not await still_allowed(principal):
                    return  # removed from the org, account gone, key revoked: the stream ends
                checked = time.monotonic()
            if skip_to is not None and batch:
                if order_of(batch[0].id) > skip_to:
                    skip_to = None  # past the backlog: no more checks
                else:
                    batch = [e for e in batch if order_of(e.id) > skip_to]
                    if not batch:
                        continue
            yield batch
        raise StreamOverflow()
    finally:
        sub.close()

"""Ids from paths and bodies."""

from __future__ import annotations

import uuid

from switchboard.platform.errors import NotFound


def parse_id(value: str | uuid.UUID, what: str) -> uuid.UUID:
    """The UUID in `value`; a malformed id names nothing, so it is NotFound like a missing one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} not found") from None

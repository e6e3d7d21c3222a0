"""Leases on rows that a worker is processing, so work of a dead worker is picked up within seconds.

arq re-runs a job whose worker died only after the longest job timeout; a lease renewed every
few seconds lets a watchdog see a dead worker much sooner and queue the work again, while the
row's lease keeps a late arq retry from running it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model

M = TypeVar("M", bound=Model)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now() -> datetime:
    return datetime.now(UTC)


async def claim(model: type[Model], pk: Any, *, seconds: float, statuses: tuple[str, ...]) -> bool:
    """Take the lease of row `pk` if nobody alive holds it and its status is one of `statuses`."""
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=_now()) | Q(lease_owner=WORKER_ID)
    updated = await model.filter(free, id=pk, status__in=statuses).update(
        lease_owner=WORKER_ID, lease_until=_now() + timedelta(seconds=seconds)
    )
    return bool(updated)


async def take(model: type[M], pk: Any, *, seconds: float, statuses: tuple[str, ...]) -> M | None:
    """`claim` the row's lease, then read the row: None when it was not claimed (or is gone).

    Read after the claim, never before: what a worker before this one saved is there once it let go.
    """
    if not await claim(model, pk, seconds=seconds, statuses=statuses):
        return None
    return await model.get_or_none(id=pk)


async def release(model: type[Model], pk: Any) -> None:
    """Give the lease back."""
    await model.filter(id=pk, lease_owner=WORKER_ID).update(lease_owner=None, lease_until=None)


@contextlib.asynccontextmanager
async def held(model: type[Model], pk: Any, *, seconds: float) -> AsyncIterator[None]:
    """Renew the lease every third of its length while the body runs, then release it."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(seconds / 3)
            await model.filter(id=pk, lease_owner=WORKER_ID).update(lease_until=_now() + timedelta(seconds=seconds))

    renewer = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        await release(model, pk)


async def abandoned(model: type[Model], statuses: tuple[str, ...]) -> list[Any]:
    """Ids of rows in `statuses` whose lease ran out: their worker died."""
    rows = await model.filter(status__in=statuses, lease_until__lt=_now()).values_list("id", flat=True)
    return list(rows)

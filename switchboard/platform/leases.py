"""Leases on rows that a worker is processing, so work of a dead worker is picked up within seconds.

arq re-runs a job whose worker died only after the longest job timeout; a lease renewed every
few seconds lets a watchdog see a dead worker much sooner and queue the work again, while the
row's lease keeps a late arq retry from running it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from tortoise.models import Model

M = TypeVar("M", bound=Model)

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _now() -> datetime:
    return datetime.now(UTC)


async def take(model: type[M], pk: Any, *, seconds: float, statuses: tuple[str, ...]) -> M | None:
    """Take the lease of row `pk` and read the row, in one statement.

    Taken when its status is one of `statuses` and nobody alive holds it; None otherwise (or when
    the row is gone).

    The row comes back from the UPDATE that took the lease, so it is what a worker before this
    one saved once it let go (never a read from before the lease was taken), in one round trip.
    """
    now = _now()
    table = model._meta.db_table
    rows = await model._meta.db.execute_query_dict(
        f'UPDATE "{table}" SET lease_owner = $1, lease_until = $2 '  # noqa: S608 (the model's own table)
        "WHERE id = $3 AND status = ANY($4::text[]) "
        "AND (lease_until IS NULL OR lease_until < $5 OR lease_owner = $1) RETURNING *",
        [WORKER_ID, now + timedelta(seconds=seconds), pk, list(statuses), now],
    )
    return model._init_from_db(**rows[0]) if rows else None


class Lease:
    """A lease `held` on one row: `finish` writes the row's outcome and lets go in one statement."""

    def __init__(self, model: type[Model], pk: Any) -> None:
        self.model, self.pk = model, pk
        self.released = False

    async def finish(self, **values: Any) -> bool:
        """Set `values` on the row and release the lease together (no values: just release it); False when
        the lease was no longer ours."""
        self.released = True
        updated = await self.model.filter(id=self.pk, lease_owner=WORKER_ID).update(
            lease_owner=None, lease_until=None, **values
        )
        return bool(updated)


@contextlib.asynccontextmanager
async def held(model: type[Model], pk: Any, *, seconds: float) -> AsyncIterator[Lease]:
    """Renew the lease every third of its length while the body runs, then release it (unless `finish`ed)."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(seconds / 3)
            try:
                await model.filter(id=pk, lease_owner=WORKER_ID).update(lease_until=_now() + timedelta(seconds=seconds))
            except Exception as exc:  # a database hiccup: the lease still runs a while; try again next beat
                log.warning("renewing the lease on %s %s failed: %r", model.__name__, pk, exc)

    lease = Lease(model, pk)
    renewer = asyncio.create_task(renew())
    try:
        yield lease
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        if not lease.released:
            await lease.finish()


async def abandoned(model: type[Model], statuses: tuple[str, ...]) -> list[Any]:
    """Ids of rows in `statuses` whose lease ran out: their worker died."""
    rows = await model.filter(status__in=statuses, lease_until__lt=_now()).values_list("id", flat=True)
    return list(rows)

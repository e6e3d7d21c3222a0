"""Leases on rows that a worker is processing, so work of a dead worker is picked up within seconds.

arq re-runs a job whose worker died only after the longest job timeout; a lease renewed every
few seconds lets a watchdog see a dead worker much sooner and queue the work again, while the
row's lease keeps a late arq retry from running it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from tortoise.exceptions import FieldError
from tortoise.models import Model

M = TypeVar("M", bound=Model)

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process; each lease's owner is this and a token of its own (see `take`)."""


def _now() -> datetime:
    return datetime.now(UTC)


class Lease(Generic[M]):
    """A lease one job took on one row: `held` keeps it, `update` writes the row while the job works,
    `finish` writes the row's outcome and lets go.

    The owner is this process and a token of this lease, so a second job for the same row,
    even in the same process, cannot take it while this one runs; and what this job writes with
    `update` or `finish` is written only while the lease is still its own.
    """

    def __init__(self, model: type[M], row: M, owner: str, seconds: float) -> None:
        self.model, self.row, self.owner, self.seconds = model, row, owner, seconds
        self.released = False

    async def update(self, **values: Any) -> bool:
        """Set the fields in `values` on the row if the lease is still ours (False if not), in one statement.

        Plain values only (no expressions). The statement is written once per model and set of
        fields: a job updates its row a few times, and the ORM's query builder took ~0.5 ms of the
        event loop each time.
        """
        if not values:
            raise ValueError("nothing to update")
        sql = _update_sql(self.model, tuple(values))
        fields = self.model._meta.fields_map
        # no instance, as the ORM's own `QuerySet.update` converts them
        params = [fields[name].to_db_value(value, None) for name, value in values.items()]  # type: ignore[arg-type]
        updated, _ = await self.model._meta.db.execute_query(sql, [*params, self.row.pk, self.owner])
        return bool(updated)

    async def finish(self, **values: Any) -> bool:
        """Set `values` on the row and release the lease together (no values: just release it); False when
        the lease was no longer ours."""
        self.released = True
        return await self.update(lease_owner=None, lease_until=None, **values)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[Lease[M]]:
        """Renew the lease every third of its length while the body runs, then release it (unless `finish`ed)."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.seconds / 3)
                try:
                    await self.update(lease_until=_now() + timedelta(seconds=self.seconds))
                except Exception as exc:  # a database hiccup: the lease still runs a while; try again next beat
                    log.warning("renewing the lease on %s %s failed: %r", self.model.__name__, self.row.pk, exc)

        renewer = asyncio.create_task(renew())
        try:
            yield self
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if not self.released:
                await self.finish()


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...]) -> str:
    """`UPDATE` of the fields `names` of one row of `model`, while a given owner holds its lease."""
    unknown = [name for name in names if name not in model._meta.fields_db_projection]
    if unknown:
        raise FieldError(f"{model.__name__} has no column for {', '.join(unknown)}")
    columns = [model._meta.fields_db_projection[name] for name in names]
    assignments = ", ".join(f'"{column}" = ${number}' for number, column in enumerate(columns, start=1))
    return (
        f'UPDATE "{model._meta.db_table}" SET {assignments} '  # noqa: S608 (the model's own table and columns)
        f'WHERE "{model._meta.db_pk_column}" = ${len(columns) + 1} AND lease_owner = ${len(columns) + 2}'
    )


async def take(model: type[M], pk: Any, *, seconds: float, statuses: tuple[str, ...]) -> Lease[M] | None:
    """Take the lease of row `pk` and read the row, in one statement.

    Taken when its status is one of `statuses` and no lease runs on it (none, or its worker died);
    None otherwise (or when the row is gone). The row (`Lease.row`) comes back from the UPDATE
    that took the lease, so it is what the job before this one saved once it let go (never a
    read from before the lease was taken), in one round trip.
    """
    now = _now()
    owner = f"{WORKER_ID}:{uuid.uuid4().hex[:8]}"
    table = model._meta.db_table
    rows = await model._meta.db.execute_query_dict(
        f'UPDATE "{table}" SET lease_owner = $1, lease_until = $2 '  # noqa: S608 (the model's own table)
        "WHERE id = $3 AND status = ANY($4::text[]) AND (lease_until IS NULL OR lease_until < $5) RETURNING *",
        [owner, now + timedelta(seconds=seconds), pk, list(statuses), now],
    )
    if not rows:
        return None
    return Lease(model, model._init_from_db(**rows[0]), owner, seconds)


async def abandoned(model: type[Model], statuses: tuple[str, ...]) -> list[tuple[Any, datetime]]:
    """Rows in `statuses` whose lease ran out (their worker died): each id with the lease's end.

    The end names the lapse: a recovery job keyed by it is queued once however often a watchdog looks.
    """
    rows = await model.filter(status__in=statuses, lease_until__lt=_now()).values_list("id", "lease_until")
    return [(row_id, until) for row_id, until in rows]

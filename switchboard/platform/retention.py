"""Retention: each context names what it prunes, and one call prunes it all (`POST /cron/retention`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from switchboard.config import Settings

# A pruner deletes what is past its context's retention and says how many rows went.
Pruner = Callable[[Settings], Awaitable[int]]


@dataclass
class RetentionPlan:
    """Every context's pruners, by the table (or thing) each prunes."""

    pruners: dict[str, Pruner] = field(default_factory=dict)

    async def run(self, settings: Settings) -> dict[str, int]:
        """Prune everything; rows pruned per table, in a stable order."""
        return {name: await self.pruners[name](settings) for name in sorted(self.pruners)}

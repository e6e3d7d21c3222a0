"""The schedule dispatcher's periodic job: every worker ticks every few seconds; fire rows keep each fire once."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from arq import cron
from arq.cron import CronJob

from switchboard.config import Settings
from switchboard.workflows import schedule_service

log = logging.getLogger(__name__)


async def tick_schedules(ctx: dict[str, Any], now: str | None = None) -> int:
    """Fire every schedule due now (in batches); the number of runs started.

    `now` (ISO 8601) ticks at another time, as `POST /admin/tick` can: the periodic job never passes it.
    """
    runtime = ctx["runtime"]
    if now:  # a tick at a chosen moment looks no further than it
        done = await schedule_service.tick(runtime, datetime.fromisoformat(now))
    else:
        done = await schedule_service.tick(runtime, lookahead_s=runtime.settings.schedule_lookahead_seconds)
    if done.started or done.missed:
        log.info(
            "schedules ticked: %d started, %d skipped, %d queued, %d missed",
            done.started,
            done.skipped,
            done.queued,
            done.missed,
        )
    return done.started


JOBS = [tick_schedules]


def cron_jobs(settings: Settings | None = None) -> list[CronJob]:
    """The tick, every SCHEDULE_TICK_SECONDS seconds; none when that is 0.

    Not unique: each worker enqueues its own tick, so a stopped worker never stops the schedules, and
    ticks that run side by side take different schedules (SKIP LOCKED) and never the same fire twice.
    """
    every = (settings or Settings()).schedule_tick_seconds
    if every <= 0:
        return []
    return [cron(tick_schedules, second=set(range(0, 60, every)), unique=False, timeout=300, max_tries=1)]

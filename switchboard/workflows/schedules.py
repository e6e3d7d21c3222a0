"""When a schedule fires: 5-field cron in an IANA time zone, fire times kept in UTC, correct at DST changes.

Cron is read on the wall clock of the schedule's zone (croniter steps through naive local times) and
each local time is then placed on the UTC line:

- a local time that does not exist (the hour skipped in spring: 02:30 in Europe/Berlin on the last
  Sunday of March) fires once, at the instant the clock would have shown it had it not jumped
  (03:30 CEST); a spring day has one run of a daily 02:30, not zero;
- a local time that happens twice (the hour repeated in autumn) fires at its first occurrence only;
  a fall-back day has one run of a daily 02:30, not two;
- two local times that land on the same instant fire once (fire times only ever grow).

What happens to fire times that passed while nothing ticked (downtime) is the missed-fire policy's
business (`due_fire_times`): `skip` drops them, `run_once` runs the latest of them once, `catch_up`
runs each of them, the latest `catch_up_limit` at most.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
OverlapPolicy = Literal["skip", "allow", "queue_one"]
MissedPolicy = Literal["skip", "run_once", "catch_up"]
# Longer than any DST shift in the tz database (Lord Howe's is 30 minutes, most are an hour, a few two).
_MAX_SHIFT = timedelta(hours=3)
# A fire time this much in the past at the tick is still on time, not missed (ticks are seconds apart).
DEFAULT_GRACE = timedelta(seconds=60)
_MAX_STEPS = 10_000  # a valid 5-field expression fires at least once in 4 years of minutes
# How many missed fire times a tick walks through one by one; past that it jumps to the last day.
_MAX_WALK = 1_000
_LOOKBACK = timedelta(days=1)


class InvalidSchedule(ValueError):
    """A cron expression or time zone that cannot be used; the message says which and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CronSpec:
    """A validated cron expression (aliases expanded to 5 fields) in a time zone."""

    expression: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        """The time zone."""
        return _zone(self.timezone)


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse(expression: str, timezone: str) -> CronSpec:
    """A `CronSpec`, or InvalidSchedule naming the field (`cron` or `timezone`) that is wrong."""
    text = " ".join(expression.split())
    text = ALIASES.get(text.lower(), text)
    if text.startswith("@"):
        raise InvalidSchedule("cron", f"Unknown alias {text!r}; use one of {', '.join(sorted(ALIASES))}")
    if len(text.split(" ")) != 5:
        raise InvalidSchedule("cron", "A cron expression has 5 fields: minute hour day-of-month month day-of-week")
    try:
        croniter(text, datetime(2026, 1, 1)).get_next(datetime)  # `0 0 30 2 *` parses but never fires
    except (CroniterError, ValueError, KeyError) as exc:
        raise InvalidSchedule("cron", f"Invalid cron expression: {exc}") from None
    try:
        if not timezone or timezone != timezone.strip() or "\x00" in timezone:
            raise ValueError(timezone)
        _zone(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidSchedule(
            "timezone", f"Unknown time zone {timezone!r}; use an IANA name like Europe/Berlin"
        ) from None
    return CronSpec(text, timezone)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall-clock time in `zone`: first occurrence when repeated, shifted when skipped."""
    # fold=0 is the earlier of two repeated times, and for a skipped time the offset from before the jump
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


@functools.lru_cache(maxsize=4096)  # a tick computes the same step for every schedule sharing an expression
def next_fire(spec: CronSpec, after: datetime) -> datetime:
    """The first fire time strictly after `after` (an aware datetime), in UTC."""
    zone = spec.zone
    after = after.astimezone(UTC)
    local_after = after.astimezone(zone)
    # Just after a spring jump, a skipped wall-clock time behind the clock's reading still lies ahead
    # on the UTC line: start reading the wall clock from before the jump.
    earlier = (after - _MAX_SHIFT).astimezone(zone)
    jump = (local_after.utcoffset() or timedelta()) - (earlier.utcoffset() or timedelta())
    start = local_after.replace(tzinfo=None) - max(jump, timedelta())
    steps = croniter(spec.expression, start)
    for _ in range(_MAX_STEPS):
        candidate = to_utc(steps.get_next(datetime), zone)
        if candidate > after:
            return candidate
    raise InvalidSchedule("cron", "This expression never fires")  # pragma: no cover - croniter raises first


def fire_times(spec: CronSpec, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times after `after`, in UTC."""
    found: list[datetime] = []
    moment = after
    for _ in range(count):
        moment = next_fire(spec, moment)
        found.append(moment)
    return found


@dataclass(frozen=True)
class DueFires:
    """What a tick does with a schedule: the fire times to run, those it drops, and the next one after now."""

    run: list[datetime]
    missed: int
    next_fire_at: datetime


def due_fire_times(
    spec: CronSpec,
    next_fire_at: datetime,
    now: datetime,
    *,
    missed_policy: MissedPolicy,
    catch_up_limit: int,
    grace: timedelta = DEFAULT_GRACE,
    until: datetime | None = None,
) -> DueFires:
    """The fire times due by `now` (or by `until`, a moment ahead of it), starting at `next_fire_at`, sorted
    by the missed-fire policy.

    A fire time within `grace` of `now`, or after it, is on time and always runs; older ones were missed
    (the schedulers were down) and the policy decides: `skip` none, `run_once` the latest, `catch_up` the
    latest `catch_up_limit`.
    """
    horizon = max(now, until) if until else now
    due: list[datetime] = []
    moment = next_fire_at
    # Past a catch-up's reach only the count matters: keep the latest few, count the rest.
    keep = max(catch_up_limit, 1) + 1
    dropped = 0
    walked = 0
    while moment <= horizon:
        due.append(moment)
        if len(due) > keep * 2:
            dropped += len(due) - keep
            due = due[-keep:]
        walked += 1
        if walked == _MAX_WALK and now - moment > _LOOKBACK:
            # a very long downtime: jump to its last day (what lies between only counts as dropped)
            dropped += len(due)
            due = []
            moment = next_fire(spec, now - _LOOKBACK)
            continue
        moment = next_fire(spec, moment)
    on_time = [t for t in due if now - t <= grace]
    late = [t for t in due if now - t > grace]
    if missed_policy == "skip":
        run: list[datetime] = []
    elif missed_policy == "run_once":
        run = late[-1:]
    else:
        run = late[-catch_up_limit:] if catch_up_limit > 0 else []
    return DueFires(run=run + on_time, missed=dropped + len(late) - len(run), next_fire_at=moment)

"""Schedules of workflows: create, list, pause, resume, delete, and the dispatcher's tick.

The tick claims due schedules in batches (`FOR UPDATE SKIP LOCKED`, so any number of workers and
web processes tick side by side, each taking other rows), and in the same transaction writes one
`ScheduleFire` row per fire time (unique per schedule and fire time), creates the runs those fires
start, and moves each schedule's next fire time on. The runs' first steps are queued after the
commit. A fire time is therefore run exactly once: two tickers cannot hold the same schedule row,
and a fire row that already exists is never written (nor its run created) a second time.

Overlap (a run of the schedule still going when the next fire time comes): `skip` records the fire
as skipped, `allow` starts it anyway, `queue_one` keeps one fire queued and starts it when the
running one ends. Only active workflows fire; the fire times of a workflow that is not active
pass without runs.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from switchboard.platform.auth import Principal
from switchboard.platform.errors import NotFound, ValidationFailed
from switchboard.platform.ids import parse_id
from switchboard.platform.runtime import Runtime
from switchboard.workflows import schedules
from switchboard.workflows.schedules import CronSpec, InvalidSchedule, MissedPolicy, OverlapPolicy
from switchboard.workflows.trigger_models import WorkflowSchedule
from switchboard.workflows.trigger_runs import TriggeredRun, create_runs, dispatch_runs

BATCH_SIZE = 500
ACTIVE_RUN = ("pending", "running", "awaiting_approval")
UPCOMING = 5


class ScheduleNotFound(NotFound):
    """No such schedule on this workflow in the caller's org."""

    code, message = "schedule_not_found", "Schedule not found"


@dataclass
class ScheduleSpec:
    """What a person asks for when creating a schedule."""

    cron: str
    timezone: str | None = None
    overlap: OverlapPolicy = "skip"
    missed: MissedPolicy = "run_once"
    catch_up_limit: int = 10
    input: Any = None
    starts_at: datetime | None = None


def _spec(row: WorkflowSchedule) -> CronSpec:
    return CronSpec(row.cron, row.timezone)


def upcoming(row: WorkflowSchedule, count: int = UPCOMING) -> list[datetime]:
    """The schedule's next fire times (paused: the ones it would have if resumed now)."""
    first = row.next_fire_at
    if row.paused:
        first = schedules.next_fire(_spec(row), datetime.now(UTC))
    return [first, *schedules.fire_times(_spec(row), first, count - 1)]


def _parse(cron: str, timezone: str) -> CronSpec:
    try:
        return schedules.parse(cron, timezone)
    except InvalidSchedule as exc:
        raise ValidationFailed(
            str(exc), details=[{"field": exc.field, "message": str(exc), "type": "value_error"}]
        ) from None


def _first_fire(spec: CronSpec, starts_at: datetime | None) -> datetime:
    now = datetime.now(UTC)
    after = max(now, starts_at - timedelta(microseconds=1)) if starts_at else now
    return schedules.next_fire(spec, after)


async def create(
    principal: Principal, workflow_id: str, wanted: ScheduleSpec, timezone_default: str
) -> WorkflowSchedule:
    """A new schedule of the caller's org's workflow; 422 naming `cron` or `timezone` when they do not parse."""
    workflow = await _workflow(principal, workflow_id)
    spec = _parse(wanted.cron, wanted.timezone or timezone_default)
    created = await WorkflowSchedule.create(
        org_id=principal.org_id,
        workflow_id=workflow.id,
        created_by=principal.user_id,
        cron=spec.expression,
        timezone=spec.timezone,
        overlap=wanted.overlap,
        missed=wanted.missed,
        catch_up_limit=wanted.catch_up_limit,
        input_json=None if wanted.input is None else json.dumps(wanted.input),
        starts_at=wanted.starts_at,
        next_fire_at=_first_fire(spec, wanted.starts_at),
    )
    return created


async def _workflow(principal: Principal, workflow_id: str) -> Any:
    from switchboard.workflows.service import get_workflow

    return await get_workflow(principal, workflow_id)


async def for_workflow(
    principal: Principal, workflow_id: str, limit: int, offset: int
) -> tuple[list[WorkflowSchedule], int]:
    """The workflow's schedules, oldest first."""
    workflow = await _workflow(principal, workflow_id)
    query = WorkflowSchedule.filter(org_id=principal.org_id, workflow_id=workflow.id)
    return list(await query.order_by("created_at", "id").offset(offset).limit(limit)), await query.count()


async def for_org(principal: Principal, limit: int, offset: int) -> tuple[list[WorkflowSchedule], int]:
    """Every schedule of the caller's active org (of workflows not deleted), soonest first."""
    query = WorkflowSchedule.filter(org_id=principal.org_id, workflow__deleted_at__isnull=True)
    return list(await query.order_by("next_fire_at", "id").offset(offset).limit(limit)), await query.count()


async def get(principal: Principal, workflow_id: str, schedule_id: str) -> WorkflowSchedule:
    """One schedule of the workflow; 404 for another org's, another workflow's or none."""
    workflow = await _workflow(principal, workflow_id)
    found = await WorkflowSchedule.get_or_none(
        id=parse_id(schedule_id, "Schedule"), workflow_id=workflow.id, org_id=principal.org_id
    )
    if found is None:
        raise ScheduleNotFound()
    return found


async def delete(principal: Principal, workflow_id: str, schedule_id: str) -> None:
    """Remove a schedule (its fire history goes with it; the runs it started stay, but for runs written ahead
    of a fire time still to come)."""
    found = await get(principal, workflow_id, schedule_id)
    async with in_transaction() as conn:  # no tick can write a run ahead between the two
        await _withdraw(conn, schedule_id=found.id)
        await WorkflowSchedule.filter(id=found.id).using_db(conn).delete()


_WITHDRAW = """
WITH held AS (
    DELETE FROM workflow_schedule_fires f USING workflow_runs r
    WHERE f.run_id = r.id AND r.status = 'pending' AND f.fire_time > $1
      AND (f.schedule_id = $2 OR r.workflow_id = $3)
    RETURNING f.run_id
)
DELETE FROM workflow_runs WHERE id IN (SELECT run_id FROM held) AND status = 'pending'
"""


async def withdraw_held(*, schedule_id: uuid.UUID | None = None, workflow_id: uuid.UUID | None = None) -> None:
    """Take back the runs a tick wrote ahead of fire times still to come (see `tick`), with their fire rows.

    A schedule paused or deleted, or its workflow paused, archived or deleted, in the seconds between a
    look-ahead tick and the fire time: the fire time then passes without a run, as it would have
    without the look-ahead. (Their first steps cannot start before the fire time.)
    """
    async with in_transaction() as conn:
        await _withdraw(conn, schedule_id=schedule_id, workflow_id=workflow_id)


async def _withdraw(
    conn: BaseDBAsyncClient, *, schedule_id: uuid.UUID | None = None, workflow_id: uuid.UUID | None = None
) -> None:
    # The schedules' rows first: a tick claiming them right now (it holds them FOR UPDATE) commits before
    # this looks for its runs, and a later one skips them until this transaction ends.
    await conn.execute_query(
        "SELECT id FROM workflow_schedules WHERE id = $1 OR workflow_id = $2 ORDER BY id FOR UPDATE",
        [schedule_id, workflow_id],
    )
    await conn.execute_query(_WITHDRAW, [datetime.now(UTC), schedule_id, workflow_id])


async def set_paused(principal: Principal, workflow_id: str, schedule_id: str, paused: bool) -> WorkflowSchedule:
    """Pause, or resume from now on: fire times that passed while paused are not caught up."""
    found = await get(principal, workflow_id, schedule_id)
    if found.paused != paused:
        found.paused = paused
        if not paused:
            found.next_fire_at = _first_fire(_spec(found), found.starts_at)
        await found.save(update_fields=["paused", "next_fire_at", "updated_at"])
    if paused:  # after the pause is saved: a tick from now on leaves the schedule alone
        await withdraw_held(schedule_id=found.id)
    return found


# --- the dispatcher ---------------------------------------------------------------------------------


@dataclass
class TickResult:
    """What one tick did."""

    now: datetime
    started: int = 0
    skipped: int = 0
    queued: int = 0
    missed: int = 0
    inactive: int = 0
    claimed: int = 0  # schedules taken by this batch (a tick goes on while batches come back full)
    runs: list[Any] = field(default_factory=list)

    @property
    def run_ids(self) -> list[uuid.UUID]:
        """The runs started."""
        return [run.id for run in self.runs]

    def add(self, other: TickResult) -> None:
        """Fold another batch's counts into this one."""
        self.started += other.started
        self.skipped += other.skipped
        self.queued += other.queued
        self.missed += other.missed
        self.inactive += other.inactive
        self.runs.extend(other.runs)


_DUE = """
SELECT s.id, s.org_id, s.workflow_id, s.cron, s.timezone, s.overlap, s.missed, s.catch_up_limit, s.input_json,
       s.next_fire_at, w.owner_id, w.version, w.status AS workflow_status, w.deleted_at,
       r.status AS last_run_status,
       EXISTS (SELECT 1 FROM workflow_schedule_fires q WHERE q.schedule_id = s.id AND q.outcome = 'queued')
           AS has_queued
FROM workflow_schedules s
JOIN workflows w ON w.id = s.workflow_id
LEFT JOIN workflow_runs r ON r.id = s.last_run_id
WHERE NOT s.paused AND s.next_fire_at <= $1
  -- ahead of its fire time, a schedule whose last run is still going waits for the time itself (its overlap policy)
  AND (s.next_fire_at <= $3 OR s.overlap = 'allow' OR r.status IS NULL
       OR r.status NOT IN ('pending', 'running', 'awaiting_approval'))
ORDER BY s.next_fire_at
LIMIT $2
FOR UPDATE OF s SKIP LOCKED
"""
# The claim: a fire row that exists already (unique per schedule and fire time) is neither written nor run again.
_CLAIM_FIRES = """
INSERT INTO workflow_schedule_fires (schedule_id, fire_time, outcome, created_at)
SELECT f.*, now() FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS f(schedule_id, fire_time, outcome)
ON CONFLICT (schedule_id, fire_time) DO NOTHING
RETURNING id, schedule_id, fire_time
"""
_FIRE_RUNS = """
UPDATE workflow_schedule_fires f SET run_id = v.run_id
FROM unnest($1::bigint[], $2::uuid[]) AS v(id, run_id) WHERE f.id = v.id
"""
_ADVANCE = """
UPDATE workflow_schedules s
SET next_fire_at = v.next_fire_at, missed_count = s.missed_count + v.missed,
    last_fire_at = coalesce(v.last_fire_at, s.last_fire_at), last_run_id = coalesce(v.last_run_id, s.last_run_id),
    updated_at = now()
FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::timestamptz[], $5::uuid[])
     AS v(id, next_fire_at, missed, last_fire_at, last_run_id)
WHERE s.id = v.id
"""


@dataclass
class _Fire:
    schedule_id: uuid.UUID
    fire_time: datetime
    outcome: str  # started | skipped | queued
    run: TriggeredRun | None = None
    fire_id: int | None = None
    run_id: uuid.UUID | None = None


def _decoded(value: Any) -> Any:
    """A JSON column read by raw SQL comes back as its text."""
    return json.loads(value) if isinstance(value, str) else value


def _run_of(schedule_id: uuid.UUID, row: dict[str, Any], fire_time: datetime, now: datetime) -> TriggeredRun:
    return TriggeredRun(
        not_before=fire_time if fire_time > now else None,
        workflow_id=row["workflow_id"],
        org_id=row["org_id"],
        acting_user_id=row["owner_id"],
        trigger="schedule",
        input=_decoded(row["input_json"]),
        idempotency_key=f"schedule:{schedule_id}:{fire_time.isoformat()}",
        version=row["version"],  # read with the schedule: one query for the batch, not one per run
    )


def _plan(row: dict[str, Any], now: datetime, until: datetime, result: TickResult) -> tuple[list[_Fire], datetime, int]:
    """The fires of one due schedule by its policies, its next fire time, and how many fire times it missed."""
    spec = CronSpec(row["cron"], row["timezone"])
    due = schedules.due_fire_times(
        spec, row["next_fire_at"], now, missed_policy=row["missed"], catch_up_limit=row["catch_up_limit"], until=until
    )
    if row["workflow_status"] != "active" or row["deleted_at"] is not None:
        result.inactive += len(due.run)
        return [], due.next_fire_at, 0
    busy = row["last_run_status"] in ACTIVE_RUN
    queue_free = not row["has_queued"]
    fires: list[_Fire] = []
    for fire_time in due.run:
        if row["overlap"] == "allow" or not busy:
            fires.append(_Fire(row["id"], fire_time, "started", _run_of(row["id"], row, fire_time, now)))
            busy = True
        elif row["overlap"] == "queue_one" and queue_free:
            fires.append(_Fire(row["id"], fire_time, "queued"))
            queue_free = False
        else:
            fires.append(_Fire(row["id"], fire_time, "skipped"))
    return fires, due.next_fire_at, due.missed


async def _claim_batch(now: datetime, until: datetime, batch_size: int) -> TickResult:
    """One transaction: take up to `batch_size` schedules due by `until`, claim their fire rows, create the runs
    (held until their fire times), move them on."""
    result = TickResult(now=now)
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(_DUE, [until, batch_size, now])
        result.claimed = len(rows)
        if not rows:
            return result
        plans = []
        for row in rows:
            planned, next_at, missed = _plan(row, now, until, result)
            plans.append((row["id"], planned, next_at, missed))
            result.missed += missed
        fires = await _claim_fires(conn, [fire for _, planned, _, _ in plans for fire in planned])
        starting = [f for f in fires if f.run is not None]
        if starting:
            result.runs = await create_runs(conn, [f.run for f in starting if f.run is not None])
            for fire, run in zip(starting, result.runs, strict=True):
                fire.run_id = run.id
            await conn.execute_query(_FIRE_RUNS, [[f.fire_id for f in starting], [f.run_id for f in starting]])
        for fire in fires:
            setattr(result, fire.outcome, getattr(result, fire.outcome) + 1)
        advances = []
        for schedule_id, planned, next_at, missed in plans:
            kept = [f for f in planned if f.fire_id is not None]
            started = [f.run_id for f in kept if f.run_id is not None]
            last_fire = kept[-1].fire_time if kept else None
            advances.append((schedule_id, next_at, missed, last_fire, started[-1] if started else None))
        await conn.execute_query(_ADVANCE, [list(column) for column in zip(*advances, strict=True)])
    return result


async def _claim_fires(conn: BaseDBAsyncClient, fires: list[_Fire]) -> list[_Fire]:
    """Insert the fire rows; the fires that were new (with their row ids), in order."""
    if not fires:
        return []
    rows = await conn.execute_query_dict(
        _CLAIM_FIRES,
        [[f.schedule_id for f in fires], [f.fire_time for f in fires], [f.outcome for f in fires]],
    )
    ids = {(row["schedule_id"], row["fire_time"]): row["id"] for row in rows}
    for fire in fires:
        fire.fire_id = ids.get((fire.schedule_id, fire.fire_time))
    return [f for f in fires if f.fire_id is not None]


_QUEUED = """
SELECT f.id, f.schedule_id, f.fire_time, s.org_id, s.workflow_id, s.input_json, w.owner_id, w.version
FROM workflow_schedule_fires f
JOIN workflow_schedules s ON s.id = f.schedule_id
JOIN workflows w ON w.id = s.workflow_id
LEFT JOIN workflow_runs r ON r.id = s.last_run_id
WHERE f.outcome = 'queued' AND NOT s.paused AND w.status = 'active' AND w.deleted_at IS NULL
  AND (r.id IS NULL OR r.status NOT IN ('pending', 'running', 'awaiting_approval'))
LIMIT $1
FOR UPDATE OF f, s SKIP LOCKED
"""


async def _start_queued(batch_size: int) -> list[Any]:
    """Start the queued fires of schedules whose last run has ended (overlap `queue_one`)."""
    async with in_transaction() as conn:
        rows = await conn.execute_query_dict(_QUEUED, [batch_size])
        if not rows:
            return []
        now = datetime.now(UTC)
        runs = await create_runs(conn, [_run_of(row["schedule_id"], row, row["fire_time"], now) for row in rows])
        await conn.execute_query(
            "UPDATE workflow_schedule_fires f SET outcome = 'started', run_id = v.run_id "
            "FROM unnest($1::bigint[], $2::uuid[]) AS v(id, run_id) WHERE f.id = v.id",
            [[row["id"] for row in rows], [run.id for run in runs]],
        )
        await conn.execute_query(
            "UPDATE workflow_schedules s SET last_run_id = v.run_id, updated_at = now() "
            "FROM unnest($1::uuid[], $2::uuid[]) AS v(id, run_id) WHERE s.id = v.id",
            [[row["schedule_id"] for row in rows], [run.id for run in runs]],
        )
    return runs


async def tick(
    runtime: Runtime, now: datetime | None = None, *, batch_size: int = BATCH_SIZE, lookahead_s: float = 0
) -> TickResult:
    """Fire every schedule due by `now` (default: the clock), batch by batch, and start queued fires that may go.

    With `lookahead_s`, fire times up to that many seconds ahead are claimed too: their runs are written
    now and their first steps held until the fire time, so a minute's thousands of schedules are ready
    when it strikes instead of being written after it. Each batch's runs are handed to the workers while
    the next batch is claimed.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    until = moment + timedelta(seconds=lookahead_s)
    total = TickResult(now=moment)
    dispatching: list[asyncio.Task[None]] = []
    try:
        while True:
            batch = await _claim_batch(moment, until, batch_size)
            if batch.runs:
                dispatching.append(asyncio.create_task(dispatch_runs(runtime, batch.runs)))
            total.add(batch)
            if batch.claimed < batch_size:
                break
        queued = await _start_queued(batch_size)
        if queued:
            dispatching.append(asyncio.create_task(dispatch_runs(runtime, queued)))
    finally:
        # committed runs are dispatched even when a later batch fails (the engine's watchdog would, later)
        await asyncio.gather(*dispatching)
    total.started += len(queued)
    total.runs.extend(queued)
    return total

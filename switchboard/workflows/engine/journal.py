"""The step journal's statements: every move of a step is one conditional UPDATE, written once.

A step is started only from `pending` (queued: `ready_at` set, and due) or from `running` with a
lease that ran out (its worker died), and finished only while its lease is the finisher's own (or,
for a parked step, only from `waiting`): however often a step's job is delivered, it starts and
finishes once. The statements are module constants, so asyncpg prepares each once per connection;
the ORM's query builder cost ~0.5 ms a call, several times a step's whole budget.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

ACTIVE = ["pending", "running", "awaiting_approval"]

# Start a queued step (or one whose worker died), only while its run is active; the run is marked
# running (and its start time kept) in the same statement.
CLAIM = """
WITH s AS (
    UPDATE workflow_steps s SET status = 'running', lease_owner = $2, lease_until = $3,
        started_at = $4, attempt = s.attempt + 1, waiting_for = NULL
    FROM workflow_runs r
    WHERE s.id = $1 AND r.id = s.run_id AND r.status = ANY($5::text[])
      AND ((s.status = 'pending' AND s.ready_at IS NOT NULL AND (s.resume_at IS NULL OR s.resume_at <= $4))
           OR (s.status = 'running' AND s.lease_until < $4))
    RETURNING s.id, s.run_id, s.node_id, s.iteration, s.node_type, s.attempt, s.ready_at, s.state,
        s.approval_id, s.child_run_id, r.workflow_id, r.version, r.input, r.acting_user_id, r.org_id, r.trigger
), run AS (
    UPDATE workflow_runs SET status = 'running', started_at = COALESCE(started_at, $4)
    WHERE id = (SELECT run_id FROM s) AND status <> 'running'
)
SELECT * FROM s
"""

# Start a step that just became ready, for the worker that finished the step before it (no queue trip).
CLAIM_READY = """
UPDATE workflow_steps SET status = 'running', lease_owner = $2, lease_until = $3, started_at = $4,
    attempt = attempt + 1
WHERE id = $1 AND status = 'pending' AND ready_at IS NOT NULL
    AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = $5 AND r.status = ANY($6::text[]))
RETURNING attempt
"""

# Finish a running step while its lease is ours: completed, failed or skipped, with its attempt logged.
FINISH = """
UPDATE workflow_steps SET status = $3, output = $4::jsonb, branch = $5, error = $6::jsonb, input = $7::jsonb,
    finished_at = $8, attempts = attempts || $9::jsonb, lease_owner = NULL, lease_until = NULL, waiting_for = NULL
WHERE id = $1 AND lease_owner = $2 AND status = 'running'
"""

# Finish a parked step (an approval decided, a delay due, a child run ended): only from `waiting`.
FINISH_WAITING = """
UPDATE workflow_steps SET status = $2, output = $3::jsonb, branch = $4, error = $5::jsonb, finished_at = $6,
    waited_seconds = waited_seconds + $7, waiting_for = NULL,
    attempts = attempts || $8::jsonb
WHERE id = $1 AND status = 'waiting'
RETURNING run_id, node_id, iteration, attempt, input
"""

# Park a running step (approval, delay, subworkflow, a tool awaiting confirmation); no worker holds it.
PARK = """
UPDATE workflow_steps SET status = 'waiting', waiting_for = $3, input = $4::jsonb, state = $5::jsonb,
    resume_at = $6, approval_id = $7, child_run_id = $8, lease_owner = NULL, lease_until = NULL
WHERE id = $1 AND lease_owner = $2 AND status = 'running'
"""

# Put a step back in the queue: a retry after `resume_at`, or a confirmed tool call to run now.
REQUEUE = """
UPDATE workflow_steps SET status = 'pending', ready_at = $3, resume_at = $4, error = $5::jsonb,
    attempts = attempts || $6::jsonb, lease_owner = NULL, lease_until = NULL, state = COALESCE($7::jsonb, state),
    waiting_for = NULL
WHERE id = $1 AND lease_owner = $2 AND status = 'running'
RETURNING attempt
"""

REQUEUE_WAITING = """
UPDATE workflow_steps SET status = 'pending', ready_at = $2, waiting_for = NULL, state = $3::jsonb,
    waited_seconds = waited_seconds + $4
WHERE id = $1 AND status = 'waiting'
RETURNING attempt, run_id
"""

# Resolve edges into successors: `n` edges resolved, `took` of them taken. A successor becomes
# ready (queued) once it has the taken edges it needs (and, unless it is a merge any/count, once
# every incoming edge is resolved); it is skipped when every edge is resolved and too few were taken.
RESOLVE = """
UPDATE workflow_steps s SET remaining = s.remaining - v.n, taken = s.taken + v.took,
    ready_at = CASE WHEN s.status = 'pending' AND s.ready_at IS NULL AND s.taken + v.took >= s.need
                     AND (NOT s.wait_all OR s.remaining - v.n = 0) THEN $3 ELSE s.ready_at END,
    status = CASE WHEN s.status = 'pending' AND s.ready_at IS NULL AND s.remaining - v.n = 0
                   AND s.taken + v.took < s.need THEN 'skipped' ELSE s.status END,
    finished_at = CASE WHEN s.status = 'pending' AND s.ready_at IS NULL AND s.remaining - v.n = 0
                   AND s.taken + v.took < s.need THEN $3 ELSE s.finished_at END
FROM unnest($2::text[], $4::int[], $5::int[]) AS v(node, n, took)
WHERE s.run_id = $1 AND s.node_id = v.node AND s.iteration = 0
RETURNING s.id, s.node_id, s.node_type, s.status, s.ready_at, s.finished_at
"""

# A running step's whole end in ONE statement: finish it (while its lease is ours), resolve the edges
# leaving it (successors made ready or skipped, as RESOLVE) and take the successor named $13 for the same
# worker if it became ready, and count the finished and skipped steps off the run. What it returns: the
# successors touched (kind 'step') and the run's row (kind 'run'); nothing at all when the lease was lost.
_READY = (
    "s.status = 'pending' AND s.ready_at IS NULL AND s.taken + v.took >= s.need "
    "AND (NOT s.wait_all OR s.remaining - v.n = 0)"
)
_SKIP = "s.status = 'pending' AND s.ready_at IS NULL AND s.remaining - v.n = 0 AND s.taken + v.took < s.need"
_MINE = (
    "<READY> AND s.node_id = $13 AND EXISTS "
    "(SELECT 1 FROM workflow_runs rr WHERE rr.id = s.run_id AND rr.status = ANY($15::text[]))"
).replace("<READY>", _READY)
SETTLE = (
    """
WITH fin AS (
    UPDATE workflow_steps SET status = $3, output = $4::jsonb, branch = $5, error = $6::jsonb, input = $7::jsonb,
        finished_at = $8, attempts = attempts || $9::jsonb, lease_owner = NULL, lease_until = NULL, waiting_for = NULL
    WHERE id = $1 AND lease_owner = $2 AND status = 'running'
    RETURNING run_id
), res AS (
    UPDATE workflow_steps s SET remaining = s.remaining - v.n, taken = s.taken + v.took,
        ready_at = CASE WHEN <READY> THEN $8 ELSE s.ready_at END,
        status = CASE WHEN <MINE> THEN 'running' WHEN <SKIP> THEN 'skipped' ELSE s.status END,
        lease_owner = CASE WHEN <MINE> THEN $2 ELSE s.lease_owner END,
        lease_until = CASE WHEN <MINE> THEN $14 ELSE s.lease_until END,
        started_at = CASE WHEN <MINE> THEN $8 ELSE s.started_at END,
        attempt = s.attempt + CASE WHEN <MINE> THEN 1 ELSE 0 END,
        finished_at = CASE WHEN <SKIP> THEN $8 ELSE s.finished_at END
    FROM unnest($10::text[], $11::int[], $12::int[]) AS v(node, n, took), fin
    WHERE s.run_id = fin.run_id AND s.node_id = v.node AND s.iteration = 0
    RETURNING s.id, s.node_id, s.node_type, s.status, s.ready_at, s.finished_at, s.attempt
), run AS (
    UPDATE workflow_runs r SET open_steps = r.open_steps - 1
        - (SELECT count(*) FROM res WHERE res.status = 'skipped' AND res.finished_at = $8)
    FROM fin WHERE r.id = fin.run_id
    RETURNING r.open_steps, r.status, r.parent_step_id
)
SELECT 'step' AS kind, id, node_id, node_type, status, ready_at, finished_at, attempt,
    NULL::int AS open_steps, NULL::uuid AS parent_step_id FROM res
UNION ALL
SELECT 'run', NULL, NULL, NULL, status, NULL, NULL, NULL, open_steps, parent_step_id FROM run
""".replace("<MINE>", _MINE)
    .replace("<READY>", _READY)
    .replace("<SKIP>", _SKIP)
)

# Taken first in every transaction that ends a step: two branches of one run ending at once then queue on
# the run's row instead of each locking step rows (a merge, a skipped branch's successors) in its own order
# and deadlocking. FOR NO KEY UPDATE, as the run's own updates take: new steps' foreign keys do not wait.
LOCK_RUN = "SELECT 1 FROM workflow_runs WHERE id = $1 FOR NO KEY UPDATE"

# One step fewer open in the run; the run row's lock orders two branches ending at once.
CLOSE_STEPS = """
UPDATE workflow_runs SET open_steps = open_steps - $2 WHERE id = $1
RETURNING open_steps, status, workflow_id, parent_step_id, acting_user_id, org_id
"""

END_RUN = """
UPDATE workflow_runs SET status = $2, output = $3::jsonb, error = $4::jsonb, finished_at = $5, open_steps = 0
WHERE id = $1 AND status = ANY($6::text[])
"""

# A failed or cancelled run: what has not started never will.
SKIP_OPEN = """
UPDATE workflow_steps SET status = 'skipped', finished_at = $2, error = $3::jsonb, waiting_for = NULL
WHERE run_id = $1 AND status IN ('pending', 'waiting')
RETURNING id, node_id, approval_id, child_run_id
"""

AWAITING = """
UPDATE workflow_runs r SET status = 'awaiting_approval'
WHERE r.id = $1 AND r.status = 'running' AND NOT EXISTS (
    SELECT 1 FROM workflow_steps s WHERE s.run_id = $1 AND s.iteration = 0
      AND (s.status = 'running' OR (s.status = 'pending' AND s.ready_at IS NOT NULL)
           OR (s.status = 'waiting' AND s.waiting_for <> 'approval' AND s.waiting_for <> 'confirmation')))
"""

OUTPUTS = """
SELECT node_id, output FROM workflow_steps WHERE run_id = $1 AND iteration = 0 AND status = 'completed'
"""

SINK_OUTPUTS = """
SELECT node_id, output FROM workflow_steps WHERE run_id = $1 AND iteration = 0 AND status = 'completed'
    AND node_id = ANY($2::text[])
"""

INSERT_STEPS = """
INSERT INTO workflow_steps (id, run_id, node_id, iteration, node_type, status, remaining, taken, need, wait_all,
    ready_at, attempt, attempts, waited_seconds)
SELECT u.id, $1, u.node_id, 0, u.node_type, 'pending', u.remaining, 0, u.need, u.wait_all,
    CASE WHEN u.remaining = 0 THEN $2::timestamptz END, 0, '[]'::jsonb, 0
FROM unnest($3::uuid[], $4::text[], $5::text[], $6::int[], $7::int[], $8::bool[])
    AS u(id, node_id, node_type, remaining, need, wait_all)
"""


def dumps(value: Any) -> str | None:
    """A JSON parameter (None stays SQL NULL)."""
    return None if value is None else json.dumps(value, default=str, separators=(",", ":"))


def loads(value: Any) -> Any:
    """A jsonb column as read by asyncpg (text)."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Resolved:
    """What resolving edges did to successors: steps now queued and steps now skipped (node ids and step ids)."""

    ready: list[tuple[uuid.UUID, str, str]]  # (step id, node id, node type)
    skipped: list[tuple[uuid.UUID, str]]


async def resolve(
    conn: BaseDBAsyncClient, run_id: uuid.UUID, edges: Iterable[tuple[str, bool]], now: datetime
) -> Resolved:
    """Resolve edges `(target node, taken)` of one source; returns the successors made ready or skipped."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for target, taken in edges:
        counts[target][0] += 1
        counts[target][1] += int(taken)
    if not counts:
        return Resolved([], [])
    nodes = list(counts)
    rows = await conn.execute_query_dict(
        RESOLVE, [run_id, nodes, now, [counts[n][0] for n in nodes], [counts[n][1] for n in nodes]]
    )
    ready = [(r["id"], r["node_id"], r["node_type"]) for r in rows if r["status"] == "pending" and r["ready_at"] == now]
    skipped = [(r["id"], r["node_id"]) for r in rows if r["status"] == "skipped" and r["finished_at"] == now]
    return Resolved(ready, skipped)


async def insert_steps(
    conn: BaseDBAsyncClient,
    run_id: uuid.UUID,
    now: datetime,
    rows: Sequence[tuple[uuid.UUID, str, str, int, int, bool]],
) -> None:
    """Insert a run's journal rows, one per node: `(id, node id, type, incoming edges, need, wait_all)`."""
    columns = list(zip(*rows, strict=True))
    await conn.execute_query(INSERT_STEPS, [run_id, now, *[list(c) for c in columns]])


def attempt_entry(
    attempt: int,
    *,
    status: str,
    queued_at: datetime | None,
    started_at: datetime | None,
    finished_at: datetime,
    input: Any = None,
    output: Any = None,
    error: Any = None,
) -> str:
    """One attempt as it is appended to a step's `attempts` (a one-item JSON array)."""
    return json.dumps(
        [
            {
                "attempt": attempt,
                "status": status,
                "input": input,
                "output": output,
                "error": error,
                "queued_at": queued_at.isoformat() if queued_at else None,
                "started_at": started_at.isoformat() if started_at else None,
                "finished_at": finished_at.isoformat(),
            }
        ],
        default=str,
        separators=(",", ":"),
    )


def lease_until(now: datetime, seconds: float) -> datetime:
    """When a lease taken now runs out."""
    return now + timedelta(seconds=seconds)

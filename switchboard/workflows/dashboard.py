"""The flows dashboard: the org's latest runs, run metrics per org and per workflow, a run's log, monthly usage.

Read-only queries over the engine's runs and step journal, always scoped by the caller's org.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections

from switchboard.platform.auth import Principal
from switchboard.platform.errors import NotFound
from switchboard.platform.ids import parse_id

_LATEST = """
SELECT r.id, r.workflow_id, w.name AS workflow_name, r.status, r.trigger, r.created_at, r.started_at, r.finished_at
FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id
WHERE r.org_id = $1 AND w.deleted_at IS NULL
ORDER BY r.created_at DESC, r.id
LIMIT $2
"""

_METRICS = """
SELECT r.workflow_id, w.name AS workflow_name,
       count(*) AS total,
       count(*) FILTER (WHERE r.status = 'completed') AS succeeded,
       count(*) FILTER (WHERE r.status = 'failed') AS failed,
       count(*) FILTER (WHERE r.status IN ('pending', 'running', 'awaiting_approval')) AS running,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - r.begun))
           FILTER (WHERE r.finished_at IS NOT NULL) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM r.finished_at - r.begun))
           FILTER (WHERE r.finished_at IS NOT NULL) AS p95,
       max(r.created_at) AS last_run_at
FROM (SELECT *, coalesce(started_at, created_at) AS begun FROM workflow_runs) r
JOIN workflows w ON w.id = r.workflow_id
WHERE r.org_id = $1 AND r.created_at >= $2 AND w.deleted_at IS NULL AND ($3::uuid IS NULL OR r.workflow_id = $3::uuid)
GROUP BY GROUPING SETS ((r.workflow_id, w.name), ())
"""

_LOG = """
SELECT seq, id, node_id, node_type, iteration, attempt, status, started_at, finished_at, error, output FROM (
    SELECT row_number() OVER (ORDER BY s.started_at, s.id) AS seq, s.*
    FROM workflow_steps s WHERE s.run_id = $1 AND s.started_at IS NOT NULL
) journal
WHERE seq > $2
ORDER BY seq
LIMIT $3
"""


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _ms(seconds: Any) -> int | None:
    return None if seconds is None else round(float(seconds) * 1000)


def _duration(row: dict[str, Any]) -> int | None:
    start = row["started_at"] or row["created_at"]
    return _ms((row["finished_at"] - start).total_seconds()) if row["finished_at"] and start else None


async def latest_runs(principal: Principal, limit: int) -> list[dict[str, Any]]:
    """The org's newest runs, with their workflow's name and duration."""
    rows = await connections.get("default").execute_query_dict(_LATEST, [principal.org_id, limit])
    return [{**row, "duration_ms": _duration(row)} for row in rows]


@dataclass(frozen=True)
class MetricsReport:
    """The org's totals and each workflow's."""

    org: dict[str, Any]
    workflows: list[dict[str, Any]]


def _metrics(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {
            "total": 0, "succeeded": 0, "failed": 0, "running": 0,
            "p50_duration_ms": None, "p95_duration_ms": None, "last_run_at": None,
        }  # fmt: skip
    return {
        "total": row["total"],
        "succeeded": row["succeeded"],
        "failed": row["failed"],
        "running": row["running"],
        "p50_duration_ms": _ms(row["p50"]),
        "p95_duration_ms": _ms(row["p95"]),
        "last_run_at": row["last_run_at"],
    }


async def metrics(principal: Principal, days: int, workflow_id: uuid.UUID | None) -> MetricsReport:
    """Runs of the last `days` days: totals, outcomes, p50/p95 duration, last run; per org and per workflow."""
    since = datetime.now(UTC) - timedelta(days=days)
    rows = await connections.get("default").execute_query_dict(_METRICS, [principal.org_id, since, workflow_id])
    total = next((r for r in rows if r["workflow_id"] is None), None)
    per_workflow = [
        {**_metrics(r), "workflow_id": r["workflow_id"], "workflow_name": r["workflow_name"]}
        for r in rows
        if r["workflow_id"] is not None
    ]
    per_workflow.sort(key=lambda m: (-m["total"], str(m["workflow_id"])))
    return MetricsReport(_metrics(total), per_workflow)


async def run_log(
    principal: Principal, workflow_id: str, run_id: str, after: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """A run's step attempts in the order they started, after the entry numbered `after`; and the next cursor."""
    conn = connections.get("default")
    found = await conn.execute_query_dict(
        "SELECT r.id FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id "
        "WHERE r.id = $1 AND r.workflow_id = $2 AND r.org_id = $3 AND w.deleted_at IS NULL",
        [parse_id(run_id, "Run"), parse_id(workflow_id, "Workflow"), principal.org_id],
    )
    if not found:
        raise NotFound("Run not found", code="run_not_found")
    rows = await conn.execute_query_dict(_LOG, [found[0]["id"], after, limit + 1])
    more = len(rows) > limit
    # JSON columns read by raw SQL come back as their text
    rows = [{**row, "error": _decoded(row["error"]), "output": _decoded(row["output"])} for row in rows[:limit]]
    return rows, (rows[-1]["seq"] if more else None)


@dataclass(frozen=True)
class Usage:
    """Runs started this calendar month (UTC) and the allowance."""

    period_start: datetime
    period_end: datetime
    runs: int
    limit: int


def month_of(moment: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) around `moment`: its first instant and the next month's."""
    start = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


async def usage(principal: Principal, limit: int) -> Usage:
    """How many runs the org started this month, against its allowance."""
    start, end = month_of(datetime.now(UTC))
    rows = await connections.get("default").execute_query_dict(
        "SELECT count(*) AS runs FROM workflow_runs WHERE org_id = $1 AND created_at >= $2 AND created_at < $3",
        [principal.org_id, start, end],
    )
    return Usage(start, end, rows[0]["runs"], limit)

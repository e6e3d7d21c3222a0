"""Prometheus metrics: what this process counts as it serves, and what the database and queue say at scrape time.

Work done in worker processes (chunks indexed, workflow steps, model tokens, job durations) is
read from the rows it left at scrape time, so one scrape of any web process tells the whole
install's story without a multi-process registry; what only this process sees (request latency,
open streams, events delivered) is counted here.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from tortoise.connection import get_connection

REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "switchboard_request_seconds",
    "Request latency until the response starts, by route template.",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SSE_OPEN = Gauge("switchboard_live_connections", "Open live-stream connections (SSE and WebSocket).", registry=REGISTRY)
EVENTS_DELIVERED = Counter(
    "switchboard_live_events_delivered", "Events written to live-stream clients.", ["transport"], registry=REGISTRY
)
QUEUE_DEPTH = Gauge("switchboard_queue_depth", "Jobs queued and not yet taken by a worker.", registry=REGISTRY)
JOB_SECONDS = Gauge(
    "switchboard_job_duration_seconds_avg",
    "Average duration of the jobs finished in the last hour, by function.",
    ["function"],
    registry=REGISTRY,
)
JOBS_FINISHED = Gauge(
    "switchboard_jobs_finished_last_hour",
    "Jobs finished in the last hour, by function.",
    ["function"],
    registry=REGISTRY,
)
CHUNKS = Gauge("switchboard_ingestion_chunks", "Chunks indexed, all time.", registry=REGISTRY)
CHUNKS_LAST_MINUTE = Gauge(
    "switchboard_ingestion_chunks_last_minute", "Chunks of documents processed in the last minute.", registry=REGISTRY
)
WORKFLOW_STEPS = Gauge("switchboard_workflow_steps", "Workflow steps by status.", ["status"], registry=REGISTRY)
MODEL_TOKENS = Gauge("switchboard_model_tokens", "Model tokens recorded, by kind.", ["kind"], registry=REGISTRY)

_JOBS = """
SELECT 'run_chat_task' AS function, count(*) AS n,
       coalesce(avg(extract(epoch FROM finished_at - started_at)), 0) AS seconds
  FROM chat_tasks WHERE finished_at > now() - interval '1 hour' AND started_at IS NOT NULL
UNION ALL
SELECT 'run_workflow_step', count(*), coalesce(avg(extract(epoch FROM finished_at - started_at)), 0)
  FROM workflow_steps WHERE finished_at > now() - interval '1 hour' AND started_at IS NOT NULL
UNION ALL
SELECT 'ingest_document', count(*), coalesce(avg(extract(epoch FROM processed_at - created_at)), 0)
  FROM documents WHERE processed_at > now() - interval '1 hour'
"""
# from the documents' own counts (one row a document), not a count of the chunks table at every scrape
_CHUNKS = """
SELECT coalesce(sum(chunk_count), 0) AS total,
       coalesce(sum(chunk_count) FILTER (WHERE processed_at > now() - interval '1 minute'), 0) AS recent
FROM documents
"""
_STEPS = "SELECT status, count(*) AS n FROM workflow_steps GROUP BY status"
_TOKENS = """
SELECT coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion FROM usage_records
"""


async def collect(redis: Any, queue_name: str) -> bytes:
    """Refresh what is read at scrape time, then the text exposition of every metric."""
    conn = get_connection("default")
    QUEUE_DEPTH.set(await redis.zcard(queue_name))
    for row in await conn.execute_query_dict(_JOBS):
        JOB_SECONDS.labels(row["function"]).set(float(row["seconds"]))
        JOBS_FINISHED.labels(row["function"]).set(int(row["n"]))
    (chunks,) = await conn.execute_query_dict(_CHUNKS)
    CHUNKS.set(int(chunks["total"]))
    CHUNKS_LAST_MINUTE.set(int(chunks["recent"]))
    for row in await conn.execute_query_dict(_STEPS):
        WORKFLOW_STEPS.labels(row["status"]).set(int(row["n"]))
    (tokens,) = await conn.execute_query_dict(_TOKENS)
    MODEL_TOKENS.labels("prompt").set(int(tokens["prompt"]))
    MODEL_TOKENS.labels("completion").set(int(tokens["completion"]))
    return generate_latest(REGISTRY)


def observe_request(method: str, route: str, status: int, started: float) -> None:
    """Count one request's latency under its route template (never its concrete path: ids would explode it)."""
    REQUEST_SECONDS.labels(method, route, str(status)).observe(time.perf_counter() - started)


def is_loopback(address: str | None) -> bool:
    """True for a caller on this machine."""
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False

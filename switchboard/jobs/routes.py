"""`/api/v1/jobs`: submit work with an Idempotency-Key and an estimate; follow it, read what it took."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response, request
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.jobs import service
from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.idempotency import HEADER, idempotent
from switchboard.platform.openapi import event_stream
from switchboard.platform.query import QueryArgs
from switchboard.platform.sse import stream_response
from switchboard.platform.web import resume_point, runtime

jobs = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs")


class JobIn(BaseModel):
    """Work to run: its kind and its input (chat: message, mode, conversation_id; workflow_run: workflow_id, input;
    agent_run: agent, instruction; ingest: filename, and text or content_base64, collection_id)."""

    kind: Literal["chat", "ingest", "workflow_run", "agent_run"]
    input: dict[str, Any] = Field(default_factory=dict)


class JobEstimateOut(BaseModel):
    """What the job is expected to take, made before it runs; null where it cannot be known beforehand."""

    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: Decimal | None


class JobOut(BaseModel):
    """A job: the task, document or run it shows, in their own state."""

    job_id: str = Field(
        description="Canonical id: chat-<task id>, agent-<run id>, ingest-<document id>, workflow-<run id>."
    )
    kind: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None


class JobAccepted(JobOut):
    """A job just submitted, with its estimate."""

    estimate: JobEstimateOut


class JobUsageOut(BaseModel):
    """What a job took: model tokens (from usage records), chunks, workflow steps, and their cost."""

    job_id: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    chunks: int
    steps: int
    cost: Decimal | None


class JobsQuery(QueryArgs):
    """How many jobs."""

    limit: int = Field(50, ge=1, le=200)


def _out(job: service.Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "status": job.status,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "error": job.error,
    }


@jobs.post("")
@require_user
@idempotent
@validate_request(JobIn)
@validate_response(JobAccepted, 202)
async def submit(data: JobIn) -> tuple[JobAccepted, int]:
    """Submit work; the same `Idempotency-Key` returns the same job; its estimate is made before it starts.

    An `ingest` job takes a document whole in the JSON body (larger files: `POST /documents/upload`, whose
    document is then the job `ingest-<document id>`).
    """
    job, before = await service.submit(
        current_principal(), runtime(), data.kind, data.input, request.headers.get(HEADER)
    )
    return JobAccepted(**_out(job), estimate=JobEstimateOut(**before.__dict__)), 202


@jobs.get("")
@require_user
@validate_querystring(JobsQuery)
@validate_response(list[JobOut])
async def list_jobs(query_args: JobsQuery) -> list[JobOut]:
    """The caller's latest jobs of every kind, newest first."""
    return [JobOut(**_out(j)) for j in await service.list_jobs(current_principal(), query_args.limit)]


@jobs.get("/<job_id>")
@require_user
@validate_response(JobOut)
async def get_job(job_id: str) -> JobOut:
    """One job."""
    return JobOut(**_out(await service.get(current_principal(), job_id)))


@jobs.get("/<job_id>/usage")
@require_user
@validate_response(JobUsageOut)
async def job_usage(job_id: str) -> JobUsageOut:
    """What the job took so far (tokens from its usage records, chunks, steps, cost from MODEL_PRICES)."""
    principal = current_principal()
    job = await service.get(principal, job_id)
    spent = await service.usage(principal, runtime(), job)
    return JobUsageOut(job_id=job.job_id, **spent.__dict__)


@jobs.get("/<job_id>/events")
@require_user
@event_stream("The job's events as they happen, until it ends")
async def job_events(job_id: str) -> Response:
    """SSE of the job's own stream (its task's, document's or run's)."""
    job = await service.get(current_principal(), job_id)
    rt = runtime()
    return await stream_response(
        rt.events, job.stream, resume_point(), rt.settings.sse_heartbeat_seconds, ended=job.ended
    )

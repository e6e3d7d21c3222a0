"""`/api/v1/workflows/{workflow_id}/run` and `/executions/…`: start, list, read, follow and cancel runs."""

from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.idempotency import HEADER, idempotent
from switchboard.platform.openapi import event_stream
from switchboard.platform.sse import stream_response
from switchboard.platform.web import resume_point, runtime
from switchboard.workflows import runs as service
from switchboard.workflows.run_schemas import (
    RunAccepted,
    RunIn,
    RunOut,
    RunPage,
    RunQuery,
    TimelineOut,
    run_summary,
    step_out,
    timeline_entry,
)

runs = Blueprint("workflow_runs", __name__, url_prefix="/api/v1/workflows")


@runs.post("/<workflow_id>/run")
@require_user
@idempotent
@validate_request(RunIn)
@validate_response(RunAccepted, 202)
async def start_workflow_run(workflow_id: str, data: RunIn) -> tuple[RunAccepted, int]:
    """Start a run of the workflow's current version as the caller; 429 `too_many_runs` over a limit."""
    run = await service.start_run(
        runtime(), current_principal(), workflow_id, input=data.input, idempotency_key=request.headers.get(HEADER)
    )
    return RunAccepted(run_id=run.id, status=run.status), 202


@runs.get("/<workflow_id>/executions")
@require_user
@validate_querystring(RunQuery)
@validate_response(RunPage)
async def list_workflow_runs(workflow_id: str, query_args: RunQuery) -> RunPage:
    """The workflow's runs, newest first (`?status=` filters)."""
    found, total = await service.list_runs(
        current_principal(), workflow_id, status=query_args.status, limit=query_args.limit, offset=query_args.offset
    )
    return RunPage(items=[run_summary(r) for r in found], total=total, limit=query_args.limit, offset=query_args.offset)


@runs.get("/<workflow_id>/executions/<run_id>")
@require_user
@validate_response(RunOut)
async def get_workflow_run(workflow_id: str, run_id: str) -> RunOut:
    """A run and every step of it: attempts with input, output, error and timing; agent, tools, branch taken."""
    run = await service.get_run(current_principal(), workflow_id, run_id)
    steps = await service.steps_of(run)
    return RunOut(
        **run_summary(run).model_dump(), input=run.input, output=run.output, steps=[step_out(s) for s in steps]
    )


@runs.get("/<workflow_id>/executions/<run_id>/timeline")
@require_user
@validate_response(TimelineOut)
async def get_workflow_run_timeline(workflow_id: str, run_id: str) -> TimelineOut:
    """Where the run's time went: per step, queue wait, run time and time waiting for people."""
    run = await service.get_run(current_principal(), workflow_id, run_id)
    steps = [s for s in await service.steps_of(run) if s.started_at is not None or s.status == "skipped"]
    return TimelineOut(
        run_id=run.id,
        status=run.status,
        created_at=run.created_at,
        finished_at=run.finished_at,
        steps=[timeline_entry(s) for s in steps],
    )


@runs.get("/<workflow_id>/executions/<run_id>/events")
@require_user
@event_stream("The run's steps as they happen, ending with completed, failed or cancelled")
async def follow_workflow_run(workflow_id: str, run_id: str) -> Response:
    """SSE of the run: step_started, step_completed, step_failed, approval_required, approval_resolved, then
    completed | failed | cancelled; resumes after `?last_id=` or `Last-Event-ID`."""
    run = await service.get_run(current_principal(), workflow_id, run_id)
    rt = runtime()
    return await stream_response(
        rt.events, service.run_stream(run.id), resume_point(), rt.settings.sse_heartbeat_seconds,
        ended=service.ended_events(run),
    )  # fmt: skip


@runs.post("/<workflow_id>/executions/<run_id>/cancel")
@require_user
@validate_response(RunOut)
async def cancel_workflow_run(workflow_id: str, run_id: str) -> RunOut:
    """Cancel a run in progress: nothing more starts and running steps are stopped; 409 `run_finished` after its end."""
    run = await service.cancel_run(runtime(), current_principal(), workflow_id, run_id)
    steps = await service.steps_of(run)
    return RunOut(
        **run_summary(run).model_dump(), input=run.input, output=run.output, steps=[step_out(s) for s in steps]
    )

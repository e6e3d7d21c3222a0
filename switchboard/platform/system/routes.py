"""Operational routes (`/health`, `/readyz`) and self-checks under `/api/v1/system`."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, validate_response

from switchboard.platform.auth import require_superadmin
from switchboard.platform.idempotency import idempotent
from switchboard.platform.openapi import event_stream
from switchboard.platform.sse import stream_response
from switchboard.platform.system import service
from switchboard.platform.system.schemas import Health, ProgressState, Readiness, SystemCheckOut
from switchboard.platform.web import resume_point, runtime

root = Blueprint("system_root", __name__)
api = Blueprint("system", __name__, url_prefix="/api/v1/system")


@root.get("/health")
@validate_response(Health, 200)
@document_response(Health, 503)
async def health() -> tuple[Health, int]:
    """Each dependency's state; 503 when any is down."""
    report = await service.health(runtime())
    return Health(**report), 200 if report["status"] == "ok" else 503


@root.get("/readyz")
@validate_response(Readiness, 200)
@document_response(Readiness, 503)
async def readyz() -> tuple[Readiness, int]:
    """200 only when every migration is applied and every dependency answers."""
    report = await service.readiness(runtime())
    return Readiness(**report), 200 if report["ready"] else 503


@api.post("/checks")
@require_superadmin
@idempotent
@validate_response(SystemCheckOut, 202)
async def start_check() -> tuple[SystemCheckOut, int]:
    """Queue a self-check; follow it on `/checks/{id}/progress`."""
    check = await service.request_check(runtime().queue)
    return SystemCheckOut.model_validate(check, from_attributes=True), 202


@api.get("/checks/<check_id>")
@require_superadmin
@validate_response(SystemCheckOut)
async def get_check(check_id: str) -> SystemCheckOut:
    """A self-check and its results."""
    check = await service.get_check(check_id)
    return SystemCheckOut.model_validate(check, from_attributes=True)


@api.get("/checks/<check_id>/progress")
@require_superadmin
@event_stream("The check's events as they happen")
async def check_progress(check_id: str) -> Response:
    """SSE of the self-check's events; resumes after `?last_id=` or `Last-Event-ID`."""
    check = await service.get_check(check_id)
    rt = runtime()
    return await stream_response(
        rt.events, service.check_stream(check.id), resume_point(), rt.settings.sse_heartbeat_seconds,
        ended=service.ended_events(check),
    )  # fmt: skip


@api.get("/checks/<check_id>/progress/state")
@require_superadmin
@validate_response(ProgressState)
async def check_progress_state(check_id: str) -> ProgressState:
    """The same events as the SSE stream, as JSON (once the stream has expired, the verdict alone)."""
    check = await service.get_check(check_id)
    events = await runtime().events.read_all(service.check_stream(check.id)) or service.ended_events(check) or []
    return ProgressState(task_id=str(check.id), status=check.status, events=[e.as_json() for e in events])

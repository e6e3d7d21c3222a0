"""Schedules, the manual tick, and webhook triggers: `/api/v1/workflows/{id}/schedules|webhook`, `/schedules`,
`/admin/tick`, and the signed delivery endpoint `/api/v1/hooks/workflows/{token}` (no session; its signature is
its credential, so it is outside the CSRF check, which only cookie sessions go through).
"""

from __future__ import annotations

from datetime import timedelta

from quart import Blueprint, request
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.platform.auth import current_principal, require_superadmin, require_user
from switchboard.platform.errors import PayloadTooLarge
from switchboard.platform.openapi import no_content
from switchboard.platform.web import runtime
from switchboard.workflows import schedule_service, webhooks
from switchboard.workflows.trigger_models import WebhookTrigger, WorkflowSchedule
from switchboard.workflows.trigger_schemas import (
    ListQuery,
    ScheduleIn,
    ScheduleOut,
    SchedulePage,
    TickIn,
    TickOut,
    WebhookAccepted,
    WebhookOut,
    WebhookSecretOut,
)

triggers = Blueprint("workflow_triggers", __name__, url_prefix="/api/v1")


def _schedule(row: WorkflowSchedule) -> ScheduleOut:
    return ScheduleOut(
        id=row.id,
        workflow_id=row.workflow_id,
        cron=row.cron,
        timezone=row.timezone,
        overlap=row.overlap,
        missed=row.missed,
        catch_up_limit=row.catch_up_limit,
        input=row.input,
        paused=row.paused,
        starts_at=row.starts_at,
        next_fire_at=row.next_fire_at,
        next_fire_times=schedule_service.upcoming(row),
        last_fire_at=row.last_fire_at,
        last_run_id=row.last_run_id,
        missed_count=row.missed_count,
        created_by=row.created_by,
        created_at=row.created_at,
    )


# --- schedules --------------------------------------------------------------------------------------------


@triggers.post("/workflows/<workflow_id>/schedules")
@require_user
@validate_request(ScheduleIn)
@validate_response(ScheduleOut, 201)
async def create_schedule(workflow_id: str, data: ScheduleIn) -> tuple[ScheduleOut, int]:
    """Schedule a workflow: cron in a time zone, with overlap and missed-fire policies (only active ones fire)."""
    principal = current_principal()
    timezone = data.timezone or await _workflow_timezone(principal, workflow_id)
    wanted = schedule_service.ScheduleSpec(
        cron=data.cron,
        timezone=timezone,
        overlap=data.overlap,
        missed=data.missed,
        catch_up_limit=data.catch_up_limit,
        input=data.input,
        starts_at=data.starts_at,
    )
    created = await schedule_service.create(principal, workflow_id, wanted, timezone)
    return _schedule(created), 201


async def _workflow_timezone(principal: object, workflow_id: str) -> str:
    from switchboard.workflows.service import current_version, get_workflow

    workflow = await get_workflow(current_principal(), workflow_id)
    version = await current_version(workflow)
    timezone: str = (version.definition.get("settings") or {}).get("timezone") or "UTC"
    return timezone


@triggers.get("/workflows/<workflow_id>/schedules")
@require_user
@validate_querystring(ListQuery)
@validate_response(SchedulePage)
async def list_schedules(workflow_id: str, query_args: ListQuery) -> SchedulePage:
    """The workflow's schedules with their next fire times."""
    found, total = await schedule_service.for_workflow(
        current_principal(), workflow_id, query_args.limit, query_args.offset
    )
    return SchedulePage(
        items=[_schedule(s) for s in found], total=total, limit=query_args.limit, offset=query_args.offset
    )


@triggers.delete("/workflows/<workflow_id>/schedules/<schedule_id>")
@require_user
@no_content("Deleted: the schedule fires no more")
async def delete_schedule(workflow_id: str, schedule_id: str) -> tuple[str, int]:
    """Remove a schedule (runs it started stay)."""
    await schedule_service.delete(current_principal(), workflow_id, schedule_id)
    return "", 204


@triggers.post("/workflows/<workflow_id>/schedules/<schedule_id>/pause")
@require_user
@validate_response(ScheduleOut)
async def pause_schedule(workflow_id: str, schedule_id: str) -> ScheduleOut:
    """Stop firing until resumed."""
    return _schedule(await schedule_service.set_paused(current_principal(), workflow_id, schedule_id, True))


@triggers.post("/workflows/<workflow_id>/schedules/<schedule_id>/resume")
@require_user
@validate_response(ScheduleOut)
async def resume_schedule(workflow_id: str, schedule_id: str) -> ScheduleOut:
    """Fire again from the next fire time after now (those passed while paused are not caught up)."""
    return _schedule(await schedule_service.set_paused(current_principal(), workflow_id, schedule_id, False))


@triggers.get("/schedules")
@require_user
@validate_querystring(ListQuery)
@validate_response(SchedulePage)
async def org_schedules(query_args: ListQuery) -> SchedulePage:
    """Every schedule of the active org, soonest first."""
    found, total = await schedule_service.for_org(current_principal(), query_args.limit, query_args.offset)
    return SchedulePage(
        items=[_schedule(s) for s in found], total=total, limit=query_args.limit, offset=query_args.offset
    )


@triggers.post("/admin/tick")
@require_superadmin
@validate_request(TickIn)
@validate_response(TickOut)
async def tick(data: TickIn) -> TickOut:
    """A dispatcher tick now (or at `now`): fires every due schedule once, as the workers' own ticks do."""
    done = await schedule_service.tick(runtime(), data.now)
    return TickOut(
        now=done.now,
        started=done.started,
        skipped=done.skipped,
        queued=done.queued,
        missed=done.missed,
        inactive=done.inactive,
        run_ids=done.run_ids,
    )


# --- webhooks ---------------------------------------------------------------------------------------------


def _hook_url(token: str) -> str:
    public = runtime().settings.public_url
    base = public.rstrip("/") if public else request.host_url.rstrip("/")
    return f"{base}{webhooks.HOOK_PATH}{token}"


def _webhook(row: WebhookTrigger) -> WebhookOut:
    url = _hook_url(row.token)
    return WebhookOut(
        url=url,
        token=row.token,
        has_secret=row.secret_encrypted is not None,
        previous_secret_valid_until=row.previous_valid_until,
        curl=webhooks.curl_line(url),
    )


@triggers.get("/workflows/<workflow_id>/webhook")
@require_user
@validate_response(WebhookOut)
async def get_webhook(workflow_id: str) -> WebhookOut:
    """The URL a webhook-triggered workflow takes deliveries on (409 for other triggers)."""
    return _webhook(await webhooks.webhook_of(current_principal(), workflow_id))


@triggers.post("/workflows/<workflow_id>/webhook/secret")
@require_user
@validate_response(WebhookSecretOut)
async def rotate_webhook_secret(workflow_id: str) -> WebhookSecretOut:
    """Create or rotate the signing secret; it is shown this once, the previous one verifies for a while."""
    rt = runtime()
    overlap = timedelta(hours=rt.settings.webhook_secret_overlap_hours)
    secret, row = await webhooks.rotate_secret(current_principal(), workflow_id, rt.settings, overlap)
    url = _hook_url(row.token)
    return WebhookSecretOut(
        secret=secret, previous_valid_until=row.previous_valid_until, url=url, curl=webhooks.curl_line(url, secret)
    )


@triggers.post("/hooks/workflows/<token>")
@validate_response(WebhookAccepted, 200)
@validate_response(WebhookAccepted, 202)
async def deliver(token: str) -> tuple[WebhookAccepted, int]:
    """A signed delivery (Standard Webhooks): 202 with the run it started; 200 with the first run for a repeated id."""
    rt = runtime()
    await rt.limiter.hit("workflow_webhook", token[:64], "Too many deliveries to this webhook")
    cap = rt.settings.webhook_max_body_bytes
    if (request.content_length or 0) > cap:
        raise PayloadTooLarge(f"A delivery body is at most {cap} bytes")
    raw = await request.get_data(as_text=False)
    body = raw.encode() if isinstance(raw, str) else raw
    if len(body) > cap:
        raise PayloadTooLarge(f"A delivery body is at most {cap} bytes")
    delivery = webhooks.Delivery(
        message_id=request.headers.get("webhook-id"),
        timestamp=request.headers.get("webhook-timestamp"),
        signature=request.headers.get("webhook-signature"),
        body=body,
        ip=request.remote_addr,
    )
    accepted = await webhooks.receive(rt, token, delivery)
    if accepted.started:
        return WebhookAccepted(run_id=accepted.run_id, status="accepted"), 202
    return WebhookAccepted(run_id=accepted.run_id, status="duplicate"), 200

"""`/api/v1/audit/…`: the org's audit log for admins, and each user's own entries."""

from __future__ import annotations

import csv
import io

from quart import Blueprint, Response
from quart_schema import validate_querystring, validate_response

from switchboard.platform.audit import service
from switchboard.platform.audit.schemas import AuditOut, AuditQuery, AuditStats
from switchboard.platform.auth import current_principal, require_admin, require_user
from switchboard.platform.openapi import attachment
from switchboard.platform.pagination import Page, PageQuery

audit = Blueprint("audit", __name__, url_prefix="/api/v1/audit")


def _out(entry: object) -> AuditOut:
    return AuditOut.model_validate(entry, from_attributes=True)


@audit.get("/logs")
@require_admin
@validate_querystring(AuditQuery)
@validate_response(Page[AuditOut])
async def list_logs(query_args: AuditQuery) -> Page[AuditOut]:
    """The org's audit entries, newest first, filtered by action, actor, outcome and time."""
    entries, total = await service.list_for_org(
        current_principal(),
        limit=query_args.limit,
        offset=query_args.offset,
        action=query_args.action,
        actor_id=str(query_args.actor_id) if query_args.actor_id else None,
        outcome=query_args.outcome,
        since=query_args.since,
        until=query_args.until,
    )
    return Page(items=[_out(e) for e in entries], total=total, limit=query_args.limit, offset=query_args.offset)


@audit.get("/logs/<entry_id>")
@require_admin
@validate_response(AuditOut)
async def get_log(entry_id: str) -> AuditOut:
    """One audit entry of the org."""
    return _out(await service.get_for_org(current_principal(), entry_id))


@audit.get("/logs/correlation/<cid>")
@require_admin
@validate_response(list[AuditOut])
async def logs_by_correlation(cid: str) -> list[AuditOut]:
    """Every entry written while serving one request."""
    return [_out(e) for e in await service.by_correlation(current_principal(), cid)]


@audit.get("/stats")
@require_admin
@validate_response(AuditStats)
async def stats() -> AuditStats:
    """Counts by action and outcome over the last 30 days."""
    return AuditStats(**await service.stats(current_principal()))


@audit.get("/my-logs")
@require_user
@validate_querystring(PageQuery)
@validate_response(Page[AuditOut])
async def my_logs(query_args: PageQuery) -> Page[AuditOut]:
    """What the caller did."""
    entries, total = await service.list_mine(current_principal(), limit=query_args.limit, offset=query_args.offset)
    return Page(items=[_out(e) for e in entries], total=total, limit=query_args.limit, offset=query_args.offset)


@audit.get("/my-logs/export")
@require_user
@attachment("text/csv", "What the caller did, one row per entry", {"type": "string"})
async def export_my_logs() -> Response:
    """What the caller did, as CSV."""
    entries, _ = await service.list_mine(current_principal(), limit=100_000, offset=0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["created_at", "action", "outcome", "target_type", "target_id", "ip", "correlation_id"])
    for e in entries:
        writer.writerow(
            [e.created_at.isoformat(), e.action, e.outcome, e.target_type, e.target_id, e.ip, e.correlation_id]
        )
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="switchboard-audit.csv"'
    return response

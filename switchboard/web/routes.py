"""The web UI's pages and static files, outside `/api/v1` and hidden from the OpenAPI document.

Pages are shells: the server checks who is signed in (the session cookie) and renders the frame;
the page's JavaScript module reads and writes everything through the public API.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from quart import Blueprint, Response, redirect, render_template, request, send_from_directory
from quart_schema import hide
from werkzeug.wrappers.response import Response as WerkzeugResponse

from switchboard.platform.auth import Principal, resolve_principal
from switchboard.platform.errors import AppError

web = Blueprint("web", __name__, template_folder="templates")

STATIC_DIR = Path(__file__).parent / "static"

# Everything the pages load comes from this server; no inline script, no third party.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

PageResponse = Response | WerkzeugResponse


async def signed_in() -> Principal | None:
    """The signed-in person of this request, or None (no cookie, or an ended session)."""
    try:
        return await resolve_principal()
    except AppError:
        return None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/chat"
    return target


def _to_login() -> WerkzeugResponse:
    path = request.full_path.rstrip("?") if request.query_string else request.path
    return redirect("/login?" + urlencode({"next": path}))


async def _page(template: str, principal: Principal, status: int = 200, **context: object) -> Response:
    body = await render_template(template, principal=principal, page=template.removesuffix(".html"), **context)
    return _html(body, status)


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@web.get("/")
@hide
async def home() -> WerkzeugResponse:
    """To the chat when signed in, else to the sign-in page."""
    return redirect("/chat" if await signed_in() else "/login")


@web.get("/login")
@hide
async def login() -> PageResponse:
    """The sign-in form (already signed in: on to where the person was going)."""
    target = safe_next(request.args.get("next"))
    if await signed_in():
        return redirect(target)
    return _html(await render_template("login.html", principal=None, page="login", next_url=target))


@web.get("/chat")
@hide
async def chat() -> PageResponse:
    """Conversations, messages and the question box, with the live step timeline."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("chat.html", principal)


@web.get("/documents")
@hide
async def documents() -> PageResponse:
    """Upload, watch processing, delete, search."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("documents.html", principal)


@web.get("/approvals")
@hide
async def approvals() -> PageResponse:
    """The inbox of tool calls and workflow steps waiting for a decision."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("approvals.html", principal)


@web.get("/workflows")
@hide
async def workflows() -> PageResponse:
    """The org's workflows: status, trigger, last run; create, activate, pause, archive."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("workflows.html", principal)


@web.get("/workflows/<workflow_id>")
@hide
async def workflow_editor(workflow_id: str) -> PageResponse:
    """The editor: the drawing, node forms, versions, schedules, webhook and runs of one workflow."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("workflow_editor.html", principal, workflow_id=workflow_id)


@web.get("/workflows/<workflow_id>/runs/<run_id>")
@web.get("/workflows/<workflow_id>/executions/<run_id>")
@hide
async def workflow_run(workflow_id: str, run_id: str) -> PageResponse:
    """One run: each node's live state, the timeline, and every step's input, output and error."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("workflow_run.html", principal, workflow_id=workflow_id, run_id=run_id)


@web.get("/admin/agents")
@hide
async def admin_agents() -> PageResponse:
    """Allow, deny or inherit each agent and tool for the active org (org admins)."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    if not principal.is_admin:
        return await _page(
            "forbidden.html",
            principal,
            status=403,
            reason="Only an organization's owners and admins can change which agents and tools its members use.",
        )
    return await _page("admin_agents.html", principal, org_id=str(principal.org_id))


@web.get("/integrations")
@hide
async def integrations() -> PageResponse:
    """The connector catalog, the caller's connections and their status; connect and disconnect."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("integrations.html", principal)


@web.get("/assets/<path:filename>")
@hide
async def assets(filename: str) -> Response:
    """The UI's CSS and JavaScript modules."""
    response = await send_from_directory(STATIC_DIR, filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response

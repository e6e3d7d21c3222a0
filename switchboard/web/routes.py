"""The web UI's pages and static files, outside `/api/v1` and hidden from the OpenAPI document.

Pages are shells: the server checks who is signed in (the session cookie) and renders the frame;
the page's JavaScript module reads and writes everything through the public API.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

from quart import Blueprint, Response, jsonify, redirect, render_template, request, send_from_directory
from quart_schema import hide
from werkzeug.wrappers.response import Response as WerkzeugResponse

from switchboard.platform.auth import Principal, resolve_principal
from switchboard.platform.errors import AppError, NotFound
from switchboard.platform.orgs.service import list_orgs
from switchboard.platform.web import runtime

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
    # control characters first: browsers drop tabs and newlines, so "/\t/evil.com" would read as "//evil.com"
    if not target or any(ord(c) < 0x20 or c == "\x7f" for c in target):
        return "/chat"
    if not target.startswith("/") or target.startswith("//") or "\\" in target or urlsplit(target).netloc:
        return "/chat"
    return target


def _to_login() -> WerkzeugResponse:
    path = request.full_path.rstrip("?") if request.query_string else request.path
    return redirect("/login?" + urlencode({"next": path}))


async def _page(template: str, principal: Principal | None, status: int = 200, **context: object) -> Response:
    """A page with the header of whoever is signed in (pages anyone may open pass None when nobody is)."""
    body = await render_template(
        template,
        principal=principal,
        page=template.removesuffix(".html"),
        org_choices=await _org_choices(principal) if principal else [],
        platform_model=bool(runtime().settings.chat_base_url),
        **context,
    )
    return _html(body, status)


async def _org_choices(principal: Principal) -> list[dict[str, str]]:
    """The orgs of the header's switcher, the active one first in mind: id, name, and the person's role there."""
    return [{"id": str(org.id), "name": org.name, "role": role} for org, role in await list_orgs(principal)]


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
    return _html(
        await render_template(
            "login.html", principal=None, page="login", next_url=target, signup_open=_signup_open(target)
        )
    )


def _signup_open(next_url: str) -> bool:
    """Whether the sign-up form is offered: to anyone, or (`SIGNUP=invited`) on the way to an invitation."""
    return runtime().settings.signup == "open" or next_url.startswith("/invitations/")


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
    return await _page("documents.html", principal, live="document")


@web.get("/documents/<document_id>")
@hide
async def document_page(document_id: str) -> PageResponse:
    """One document: its details, collection, pages and passages."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("document.html", principal, document_id=document_id)


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
    return await _page("workflows.html", principal, live="workflow")


@web.get("/workflows/<workflow_id>")
@hide
async def workflow_editor(workflow_id: str) -> PageResponse:
    """The editor: the drawing, node forms, versions, schedules, webhook and runs of one workflow."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("workflow_editor.html", principal, workflow_id=workflow_id, live="workflow")


@web.get("/workflows/<workflow_id>/runs/<run_id>")
@web.get("/workflows/<workflow_id>/executions/<run_id>")
@hide
async def workflow_run(workflow_id: str, run_id: str) -> PageResponse:
    """One run: each node's live state, the timeline, and every step's input, output and error."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("workflow_run.html", principal, workflow_id=workflow_id, run_id=run_id)


ADMIN_ONLY = "Only an organization's owners and admins can see and change its members, groups, agents and audit log."


async def _admin_page(template: str) -> PageResponse:
    """An admin console page; a member sees why it is closed to them (403), a stranger goes to sign in."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    if not principal.is_admin:
        return await _page("forbidden.html", principal, status=403, reason=ADMIN_ONLY)
    return await _page(template, principal)


@web.get("/admin")
@hide
async def admin_home() -> WerkzeugResponse:
    """The console starts at the members."""
    return redirect("/admin/members")


@web.get("/admin/agents")
@hide
async def admin_agents() -> PageResponse:
    """Allow, deny or inherit each agent and tool at every tier, and what one person ends up with."""
    return await _admin_page("admin_agents.html")


@web.get("/admin/members")
@hide
async def admin_members() -> PageResponse:
    """The org's members and their roles, and its open invitations."""
    return await _admin_page("admin_members.html")


@web.get("/admin/groups")
@hide
async def admin_groups() -> PageResponse:
    """The org's groups and who is in each."""
    return await _admin_page("admin_groups.html")


@web.get("/admin/audit")
@hide
async def admin_audit() -> PageResponse:
    """The org's audit log, filtered, with a CSV export."""
    return await _admin_page("admin_audit.html")


@web.get("/admin/usage")
@hide
async def admin_usage() -> PageResponse:
    """What the org did lately, counted by action and outcome."""
    return await _admin_page("admin_usage.html")


@web.get("/settings")
@hide
async def settings() -> PageResponse:
    """The person's own account: profile, password, two-factor, API keys, model, memories, export, deletion."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("settings.html", principal)


@web.get("/settings/permissions")
@hide
async def permissions() -> PageResponse:
    """Which agents and tools the person may use, and why (the tier each answer comes from)."""
    principal = await signed_in()
    if principal is None:
        return _to_login()
    return await _page("permissions.html", principal)


async def _entry(template: str, **context: object) -> PageResponse:
    """A page for people who are not signed in; a signed-in person goes on to the chat."""
    if await signed_in():
        return redirect(safe_next(request.args.get("next")))
    return _html(await render_template(template, principal=None, page=template.removesuffix(".html"), **context))


@web.get("/signup")
@hide
async def signup() -> PageResponse:
    """Create an account (its own personal organization comes with it)."""
    target = safe_next(request.args.get("next"))
    return await _entry("signup.html", next_url=target, signup_open=_signup_open(target))


@web.get("/forgot-password")
@hide
async def forgot_password() -> PageResponse:
    """Ask for a password-reset mail."""
    return await _entry("forgot_password.html")


@web.get("/reset-password")
@hide
async def reset_password() -> PageResponse:
    """Choose a new password with the token from the mail."""
    token = request.args.get("token", "")[:200]
    return _html(await render_template("reset_password.html", principal=None, page="reset_password", token=token))


@web.get("/verify-email")
@hide
async def verify_email() -> PageResponse:
    """Confirm an email address with the token from the mail (signed in or not: the token says whose)."""
    return await _page("verify_email.html", await signed_in(), token=request.args.get("token", "")[:200])


@web.get("/invitations/<token>")
@hide
async def invitation(token: str) -> PageResponse:
    """Accept an invitation to an organization (after signing in or creating the invited account)."""
    here = "/invitations/" + token
    return await _page(
        "invitation.html",
        await signed_in(),
        token=token[:200],
        login_url="/login?" + urlencode({"next": here}),
        signup_url="/signup?" + urlencode({"next": here}),
    )


def wants_html() -> bool:
    """A browser asking for a page (not an API client, not a script or an image)."""
    if request.method != "GET" or request.path.startswith(("/api/", "/assets/")):
        return False
    accepted = request.accept_mimetypes
    # named outright, as browsers do: `*/*` alone (curl, scripts) keeps the JSON error
    named = any(mimetype == "text/html" for mimetype, _ in accepted)
    return named and accepted["text/html"] >= accepted["application/json"]


@web.app_errorhandler(404)
async def not_found(_: Exception) -> Response:
    """Unknown paths: a page for a browser, the JSON error for everything else."""
    if wants_html():
        principal = await signed_in()
        choices = await _org_choices(principal) if principal else []
        body = await render_template(
            "not_found.html", principal=principal, page="not_found", path=request.path, org_choices=choices
        )
        return _html(body, 404)
    response = jsonify(NotFound().to_dict())
    response.status_code = 404
    return response


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

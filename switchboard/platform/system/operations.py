"""Operations outside `/api/v1`: `/healthz`, `/metrics`, `/cron/retention` and the first-run `/bootstrap` link."""

from __future__ import annotations

import hmac
import time

from pydantic import BaseModel, Field
from quart import Blueprint, Response, g, request
from quart_schema import document_response, validate_response

from switchboard.platform import metrics
from switchboard.platform.auth import client_ip
from switchboard.platform.errors import NotFound, Unauthorized
from switchboard.platform.identity import service as identity
from switchboard.platform.identity.routes import set_session_cookies
from switchboard.platform.openapi import query_parameter, responds
from switchboard.platform.retention import RetentionPlan
from switchboard.platform.system.routes import health
from switchboard.platform.system.schemas import Health
from switchboard.platform.web import runtime

ops = Blueprint("operations", __name__)

# the link is opened in a browser: a page that moves on to the settings (set a password there)
_WELCOME = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard</title>'
    '<meta http-equiv="refresh" content="0; url=/settings"></head>'
    '<body><p>You are the first admin. <a href="/settings">Continue and set your password</a>.</p></body></html>'
)


class Pruned(BaseModel):
    """Rows pruned per table by one retention pass."""

    pruned: dict[str, int] = Field(description="Table -> rows deleted.")


@ops.get("/healthz")
@validate_response(Health, 200)
@document_response(Health, 503)
async def healthz() -> tuple[Health, int]:
    """The same as `/health`: each dependency's state; 503 when any is down."""
    answer: tuple[Health, int] = await health()
    return answer


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _same(given: str, expected: str | None) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), (expected or "").encode())


async def _secret_matches(given: str, expected: str | None) -> bool:
    """Whether `given` is the secret; each wrong one counts against the caller's IP (`secret_guesses`), and past
    that limit the answer is 429 whatever is given, so secrets cannot be guessed at speed."""
    limiter, ip = runtime().limiter, client_ip() or "unknown"
    await limiter.check("secret_guesses", ip, "Too many wrong secrets from this address; try again later")
    if _same(given, expected):
        return True
    await limiter.hit("secret_guesses", ip, "Too many wrong secrets from this address; try again later")
    return False


@ops.get("/metrics")
@responds(200, "Prometheus text format", {"text/plain": {"type": "string"}})
@responds(401, "Not on loopback and without the METRICS_TOKEN bearer token")
@responds(429, "Too many wrong secrets from this address")
async def prometheus() -> Response:
    """Prometheus metrics: open on loopback; elsewhere `Authorization: Bearer <METRICS_TOKEN>`."""
    rt = runtime()
    if not metrics.is_loopback(client_ip()) and not await _secret_matches(_bearer(), rt.settings.metrics_token):
        raise Unauthorized("Metrics need the metrics token from outside this machine")
    body = await metrics.collect(rt.redis, rt.settings.queue_name)
    return Response(body, content_type="text/plain; version=0.0.4; charset=utf-8")


@ops.post("/cron/retention")
@validate_response(Pruned)
@responds(401, "A wrong or missing CRON_SECRET")
@responds(429, "Too many wrong secrets from this address (METRICS_TOKEN, CRON_SECRET, BOOTSTRAP_TOKEN together)")
async def retention() -> Pruned:
    """Prune what is past retention (an external scheduler's call): `Authorization: Bearer <CRON_SECRET>`."""
    rt = runtime()
    if not await _secret_matches(_bearer(), rt.settings.cron_secret):
        raise Unauthorized("A valid cron secret is required")
    return Pruned(pruned=await rt.resource(RetentionPlan).run(rt.settings))


@ops.get("/bootstrap")
@query_parameter("token", "The BOOTSTRAP_TOKEN of this install.", {"type": "string", "maxLength": 200})
@responds(200, "The first admin is signed in: a page that goes on to the app", {"text/html": {"type": "string"}})
@responds(404, "Not armed (a user exists, or no or another token)")
@responds(429, "Too many wrong secrets from this address")
async def bootstrap() -> Response:
    """First-run link: while nobody has an account, create the first superadmin and sign them in (once)."""
    settings = runtime().settings
    if not await _secret_matches(request.args.get("token", ""), settings.bootstrap_token):
        raise NotFound("This link is not valid", code="bootstrap_disarmed")
    session_raw, refresh_raw = await identity.bootstrap_admin(settings.first_admin_email)
    response = Response(_WELCOME, status=200, content_type="text/html; charset=utf-8")
    return set_session_cookies(response, refresh_raw, session_raw)


async def start_timer() -> None:
    """Before a request: when it began (for the latency histogram)."""
    g.metrics_started = time.perf_counter()


async def observe(response: Response) -> Response:
    """After a request: its latency under its route template."""
    started = getattr(g, "metrics_started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.observe_request(request.method, rule, response.status_code, started)
    return response

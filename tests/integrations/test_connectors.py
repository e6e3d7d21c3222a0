"""Every connector end to end against fakes of its provider: connect, chat (read + confirmed write), workflow delivery.

One set of fake providers, one app and one worker serve the whole module; each test signs up
its own people (no emptying of tables between tests, so no waiting for the worker to go idle). The app and the
worker trust 127.0.0.1 only (INTEGRATIONS_PRIVATE_NETWORKS), so the fakes are reachable while
every other private or loopback address stays refused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from quart import Quart

from switchboard.agents import CallContext, Registry
from switchboard.app import create_app
from switchboard.config import Settings
from switchboard.integrations import Connection
from switchboard.integrations.service import CREDENTIALS
from switchboard.platform import db
from switchboard.platform.audit.models import AuditLog
from switchboard.platform.auth import principal_for
from switchboard.platform.crypto import SecretBox
from switchboard.workflows.models import WorkflowStep
from tests.chat.helpers import ask, bring_own_model, follow, wait_status
from tests.fakes import providers as fakes
from tests.fakes.openai_server import FakeOpenAI, Turn
from tests.support import processes
from tests.support.accounts import Account, join_org, sign_up
from tests.workflows.conftest import wait_run

QUEUE = "switchboard:test-integrations"
FORMER_KEY = "former-secret-key-0123456789abcdef0123456789"
# aiosmtpd (the fake SMTP server) warns about its own deprecated attribute when a login succeeds
pytestmark = pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")


@dataclass(frozen=True)
class Case:
    """One connector: how to connect it (good and bad), a read and a write, and what the provider saw."""

    connector: str
    auth: str
    credentials: dict[str, str]
    bad: dict[str, str]
    settings: dict[str, Any]
    read: tuple[str, dict[str, Any]]
    write: tuple[str, dict[str, Any]]


def cases(base: str, smtp_port: int) -> dict[str, Case]:
    post = {"channel": "C1", "text": "The printer is on fire"}
    return {
        c.connector: c
        for c in (
            Case(
                "slack",
                "token",
                {"token": fakes.SLACK_TOKEN},
                {"token": "xoxb-wrong"},
                {"base_url": f"{base}/slack/api"},
                ("slack_list_channels", {}),
                ("slack_post_message", post),
            ),
            Case(
                "github",
                "token",
                {"token": fakes.GITHUB_TOKEN},
                {"token": "ghp_wrong"},
                {"base_url": f"{base}/github"},
                ("github_list_issues", {"repo": "acme/app"}),
                ("github_create_issue", {"repo": "acme/app", "title": "Printer on fire"}),
            ),
            Case(
                "jira",
                "basic",
                {"email": fakes.JIRA_EMAIL, "api_token": fakes.JIRA_API_TOKEN},
                {"email": fakes.JIRA_EMAIL, "api_token": "wrong"},
                {"base_url": f"{base}/jira"},
                ("jira_search", {"jql": "project = OPS"}),
                ("jira_create_issue", {"project_key": "OPS", "summary": "Printer on fire"}),
            ),
            Case(
                "linear",
                "token",
                {"token": fakes.LINEAR_KEY},
                {"token": "lin_api_wrong"},
                {"api_url": f"{base}/linear/graphql"},
                ("linear_list_issues", {}),
                ("linear_create_issue", {"team_id": "team-1", "title": "Printer on fire"}),
            ),
            Case(
                "http_api",
                "token",
                {"token": fakes.HTTP_TOKEN},
                {"token": "wrong"},
                {
                    "base_url": f"{base}/api",
                    "verify_path": "/items",
                    "allowed": [{"method": "GET", "path": "/items"}, {"method": "POST", "path": "/tickets"}],
                },
                ("http_api_get", {"path": "/items"}),
                ("http_api_send", {"path": "/tickets", "json_body": {"title": "Printer on fire"}}),
            ),
            Case(
                "email",
                "basic",
                {"username": fakes.SMTP_USER, "password": fakes.SMTP_PASSWORD},
                {"username": fakes.SMTP_USER, "password": "wrong"},
                {"host": "127.0.0.1", "port": smtp_port, "security": "none", "from_address": "bot@acme.example"},
                ("email_check_server", {}),
                ("email_send", {"to": ["ops@acme.example"], "subject": "Printer on fire", "text": "Help"}),
            ),
            Case(
                "webhook",
                "secret",
                {"secret": fakes.WEBHOOK_SECRET},
                {"secret": "whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="},
                {"url": f"{base}/hook"},
                ("webhook_endpoint_info", {}),
                ("webhook_send", {"type": "ticket.created", "data": {"title": "Printer on fire"}}),
            ),
        )
    }


CONNECTORS = ("slack", "github", "jira", "linear", "http_api", "email", "webhook")


def scripted(body: dict[str, Any]) -> Turn:
    """The fake model runs the calls listed in the last user message as JSON, one per turn, then answers."""
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    try:
        calls = json.loads(messages[last_user]["content"])["calls"]
    except (ValueError, KeyError, TypeError):
        return Turn.reply("Nothing to do.")
    done = sum(1 for m in messages[last_user:] if m["role"] == "tool")
    if done < len(calls):
        name, arguments = calls[done]
        return Turn.call(name, arguments)
    return Turn.reply("Done: " + str(messages[-1].get("content", ""))[:80])


@pytest.fixture(scope="module")
def providers() -> Iterator[fakes.ProviderServer]:
    with fakes.provider_server() as server:
        yield server


@pytest.fixture(scope="module")
def smtp(providers: fakes.ProviderServer) -> Iterator[fakes.SmtpServer]:
    server = fakes.SmtpServer(providers.writes, providers.lock).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=scripted) as server:
        yield server


def _oauth_apps(providers: fakes.ProviderServer) -> dict[str, dict[str, str]]:
    return {
        "linear": {
            "client_id": fakes.OAUTH_CLIENT_ID,
            "client_secret": fakes.OAUTH_CLIENT_SECRET,
            "authorize_url": f"{providers.url}/oauth/authorize",
            "token_url": f"{providers.url}/oauth/token",
        }
    }


@pytest.fixture(scope="module")
async def integ_app(
    settings: Settings, migrated: None, providers: fakes.ProviderServer, app: Quart
) -> AsyncIterator[Quart]:
    configured = settings.model_copy(
        update={
            "queue_name": QUEUE,
            "secret_key_previous": FORMER_KEY,
            "integrations_private_networks": ["127.0.0.1/32"],
            "integrations_oauth_apps": _oauth_apps(providers),
        }
    )
    application = create_app(configured)
    try:
        async with application.test_app() as test_app:
            yield test_app.app  # type: ignore[attr-defined]
    finally:
        # Tortoise's connections are one per process: this app's start replaced the session app's and its
        # stop closed them, so the session app (every later module's) gets its database back
        await db.open_database(app.extensions["runtime"].db_config)


@pytest.fixture(scope="module")
def integ_worker(
    process_env: dict[str, str],
    migrated: None,
    providers: fakes.ProviderServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[processes.Proc]:
    env = {
        **process_env,
        "QUEUE_NAME": QUEUE,
        "INTEGRATIONS_PRIVATE_NETWORKS": json.dumps(["127.0.0.1/32"]),
        "INTEGRATIONS_OAUTH_APPS": json.dumps(_oauth_apps(providers)),
    }
    proc = processes.start_worker(env, tmp_path_factory.mktemp("integrations") / "worker.log")
    try:
        processes.wait_worker_ready(proc)
        yield proc
    finally:
        proc.stop()


class Recorder:
    """Every response body a test saw, to scan for credentials."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def json(self, response: Any, status: int) -> Any:
        text = await response.get_data(as_text=True)
        self.bodies.append(text)
        assert response.status_code == status, text
        return json.loads(text) if text else None


async def _account(app: Quart, model: FakeOpenAI) -> Account:
    account = await sign_up(app)
    await bring_own_model(account, model.base_url, "sk-x")
    return account


async def connect(account: Account, case: Case, credentials: dict[str, str] | None = None, **extra: Any) -> Any:
    body = {
        "connector": case.connector,
        "auth": case.auth,
        "credentials": credentials or case.credentials,
        "settings": case.settings,
        **extra,
    }
    return await account.post("/api/v1/providers/connect/credentials", json=body)


async def call_tool(app: Quart, account: Account, tool: str, arguments: dict[str, Any], key: str | None = None) -> Any:
    """A tool call in this process, as the workflow engine makes it (with a step's idempotency key)."""
    import uuid

    registry = app.extensions["runtime"].resource(Registry)
    _, found = registry.tool(tool)
    principal = await principal_for(uuid.UUID(account.user_id), auth_method="jwt", ip=None)
    return await found.call(CallContext(principal, idempotency_key=key), found.parse_arguments(arguments))


async def _scan_for_secrets(settings: Settings, texts: list[str]) -> None:
    """No credential in any response, log or audit row, nor anywhere in the database but encrypted."""
    audit = [json.dumps(row, default=str) for row in await AuditLog.all().values()]
    conn = await asyncpg.connect(settings.database_url)
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        # table names come from the catalog, not from input
        queries = [f'SELECT t::text FROM "{t["tablename"]}" t' for t in tables]  # noqa: S608
        dump = [str(r[0]) for query in queries for r in await conn.fetch(query)]
    finally:
        await conn.close()
    for secret in fakes.SECRETS:
        for where, found in (("a response or log", texts), ("the audit log", audit), ("the database", dump)):
            assert not [t for t in found if secret in t], f"{secret[:8]}… found in {where}"


@pytest.mark.parametrize("kind", CONNECTORS)
async def test_connect_chat_and_deliver_through_each_connector(
    kind, integ_app, integ_worker, providers, smtp, model, settings, caplog
):
    caplog.set_level(logging.INFO)
    case = cases(providers.url, smtp.port)[kind]
    seen = Recorder()
    ada = await _account(integ_app, model)

    # bad credentials: refused by the provider's own answer, nothing kept
    refused = await seen.json(await connect(ada, case, case.bad), 400)
    assert refused["error"] == "integration_auth_failed"
    assert await Connection.filter(org_id=ada.org_id).count() == 0
    connection = await seen.json(await connect(ada, case), 201)
    assert connection["status"] == "active" and "credentials" not in connection

    # chat: the read runs at once; the write waits for approval, then runs once
    read, write = case.read, case.write
    before = len(providers.writes_of(kind))
    started = await ask(ada, json.dumps({"calls": [list(read), list(write)]}), mode="ask")
    paused = await wait_status(ada, started["task_id"], ("awaiting_approval", "completed", "error"))
    assert paused["status"] == "awaiting_approval", (paused, await follow(ada, started["task_id"]))
    pending = await seen.json(await ada.get("/api/v1/approvals/pending"), 200)
    assert [p["tool"] for p in pending] == [write[0]]
    assert len(providers.writes_of(kind)) == before, "a write waits for its approval"
    await seen.json(await ada.post(f"/api/v1/approvals/{pending[0]['id']}/approve", json={}), 200)
    task = await wait_status(ada, started["task_id"], ("completed", "error"))
    assert task["status"] == "completed", task
    events = await follow(ada, started["task_id"])
    seen.bodies.append(json.dumps(events))
    finished = [e["data"].get("tool") for e in events if e["event"] == "tool_completed"]
    assert read[0] in finished and write[0] in finished
    assert len(providers.writes_of(kind)) == before + 1, "the approved write ran once"

    # the same write as a workflow delivery node; the org lets it run without asking (the org tier)
    tiers = f"/api/v1/admin/agents/orgs/{ada.org_id}/agents/{kind}"
    await seen.json(await ada.put(tiers, json={"access": "allow", "confirm": {write[0]: False}}), 200)
    definition = {
        "name": f"Deliver via {kind}",
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {
                "id": "deliver",
                "type": "delivery",
                "config": {"channel": "tool", "agent": kind, "tool": write[0], "arguments": write[1]},
            },
        ],
        "edges": [{"from": "start", "to": "deliver"}],
    }
    workflow = await seen.json(await ada.post("/api/v1/workflows", json=definition), 201)
    run = await seen.json(await ada.post(f"/api/v1/workflows/{workflow['id']}/run", json={"input": {}}), 202)
    detail = await wait_run(ada, workflow["id"], run["run_id"])
    assert detail["status"] == "completed", detail
    assert len(providers.writes_of(kind)) == before + 2
    # the step tried again (its worker died after the write, before the journal recorded it): no second write
    step = await WorkflowStep.get(run_id=run["run_id"], node_id="deliver")
    again = await call_tool(integ_app, ada, write[0], write[1], key=f"wfstep_{step.id.hex}")
    assert again == next(s for s in detail["steps"] if s["node_id"] == "deliver")["output"]
    assert len(providers.writes_of(kind)) == before + 2, "a retried step's write happens once"

    # credentials: stored only encrypted, never in answers, logs or the audit log
    listed = await seen.json(await ada.get("/api/v1/providers/connected"), 200)
    assert [c["connector"] for c in listed["items"]] == [kind]
    row = await Connection.get(id=connection["id"])
    assert json.loads(SecretBox.from_settings(settings, CREDENTIALS).decrypt(row.secret)) == case.credentials
    logs = [integ_worker.output(), *(r.getMessage() for r in caplog.records)]
    await _scan_for_secrets(settings, seen.bodies + logs)

    # disconnect: gone, and the tools say so
    await seen.json(await ada.post("/api/v1/providers/disconnect", json={"connection_id": connection["id"]}), 204)
    assert await Connection.filter(id=connection["id"]).count() == 0


async def test_oauth_with_pkce_refreshes_before_expiry_and_a_revoked_token_needs_reconnecting(
    integ_app, providers, model
):
    providers.token_lifetime = 120  # inside the 300 s refresh margin: the next use refreshes first
    ada = await _account(integ_app, model)
    eve = await _account(integ_app, model)
    api = {"api_url": f"{providers.url}/linear/graphql"}
    started = await ada.post("/api/v1/providers/connect/oauth/start", json={"connector": "linear", "settings": api})
    assert started.status_code == 200, await started.get_data(as_text=True)
    flow = await started.get_json()
    async with httpx.AsyncClient() as browser:  # the person's browser at the provider's consent screen
        consent = await browser.get(flow["authorization_url"])
    assert consent.status_code == 302
    back = httpx.URL(consent.headers["location"])
    assert back.path == "/api/v1/providers/connect/oauth/callback"
    code, state = back.params["code"], back.params["state"]
    callback = "/api/v1/providers/connect/oauth/callback"

    tampered = await ada.get(callback, query_string={"code": code, "state": state[:-2] + "xx"})
    assert tampered.status_code == 400 and (await tampered.get_json())["error"] == "invalid_oauth_state"
    stolen = await eve.get(callback, query_string={"code": code, "state": state})
    assert stolen.status_code == 400, "a state is bound to the session that started it"
    done = await ada.get(callback, query_string={"code": code, "state": state})
    assert done.status_code == 200, await done.get_data(as_text=True)
    connection = await done.get_json()
    assert connection["auth"] == "oauth2" and connection["account"] == "Linear Bot"
    replay = await ada.get(callback, query_string={"code": code, "state": state})
    assert replay.status_code == 400, "a state is used once"

    first_token = next(iter(providers.issued))
    listed = await call_tool(integ_app, ada, "linear_list_issues", {})
    assert listed["issues"][0]["identifier"] == "ENG-1"
    assert providers.grants == ["authorization_code", "refresh_token"], "refreshed before it expired"
    assert first_token not in providers.revoked

    for token in list(providers.issued):
        providers.revoke(token)
    with pytest.raises(Exception) as failed:
        await call_tool(integ_app, ada, "linear_list_issues", {})
    assert getattr(failed.value, "code", None) == "integration_needs_reconnect"
    status = (await (await ada.get("/api/v1/providers/connected/linear")).get_json())["items"][0]
    assert status["status"] == "needs_reconnect" and "connect Linear again" in status["status_message"]
    providers.token_lifetime = 3600


async def test_a_revoked_slack_token_marks_the_connection(integ_app, providers, smtp, model):
    case = cases(providers.url, smtp.port)["slack"]
    ada = await _account(integ_app, model)
    assert (await connect(ada, case)).status_code == 201
    providers.revoke(fakes.SLACK_TOKEN)
    try:
        refreshed = await ada.post("/api/v1/providers/refresh/slack")
        assert refreshed.status_code == 200, await refreshed.get_data(as_text=True)
        item = (await refreshed.get_json())["items"][0]
        assert item["status"] == "needs_reconnect" and "connect Slack again" in item["status_message"]
    finally:
        providers.revoked.discard(fakes.SLACK_TOKEN)


async def test_generic_http_stays_inside_its_allow_list_and_off_private_networks(integ_app, providers, smtp, model):
    case = cases(providers.url, smtp.port)["http_api"]
    ada = await _account(integ_app, model)
    for base in ("http://127.0.0.2:9/api", "http://10.0.0.1/api", "http://169.254.169.254/latest"):
        refused = await connect(ada, case, settings={**case.settings, "base_url": base})
        body = await refused.get_json()
        assert refused.status_code == 400 and body["error"] == "integration_destination_not_allowed", body
    assert (await connect(ada, case)).status_code == 201
    for method_path in ({"path": "/admin"}, {"path": "/items/../admin"}, {"path": "/items%2F..%2Fadmin"}):
        with pytest.raises(Exception) as failed:
            await call_tool(integ_app, ada, "http_api_get", method_path)
        assert getattr(failed.value, "code", None) == "integration_destination_not_allowed"
    with pytest.raises(Exception) as failed:
        await call_tool(integ_app, ada, "http_api_send", {"method": "DELETE", "path": "/tickets"})
    assert getattr(failed.value, "code", None) == "integration_destination_not_allowed"
    # a 429 is retried after its Retry-After
    providers.fail_next["/api/items"] = 1
    got = await call_tool(integ_app, ada, "http_api_get", {"path": "/items"})
    assert got["status"] == 200


async def test_another_orgs_connections_and_mappings_are_not_found(integ_app, providers, smtp, model):
    case = cases(providers.url, smtp.port)["github"]
    ada = await _account(integ_app, model)
    olga = await _account(integ_app, model)
    connection = await (await connect(ada, case)).get_json()
    mapped = await ada.post(
        "/api/v1/integrations/user-mappings", json={"service": "slack", "external_id": "U1", "external_name": "ada"}
    )
    assert mapped.status_code == 201, await mapped.get_data(as_text=True)
    mapping = await mapped.get_json()
    saved = await ada.put(
        "/api/v1/integrations/chat-settings/slack", json={"enabled": True, "channels": {"C1": "github"}}
    )
    assert saved.status_code == 200

    assert (
        await olga.post("/api/v1/providers/disconnect", json={"connection_id": connection["id"]})
    ).status_code == 404
    assert (await olga.delete(f"/api/v1/integrations/user-mappings/{mapping['id']}")).status_code == 404
    assert (await (await olga.get("/api/v1/providers/connected")).get_json())["items"] == []
    assert (await (await olga.get("/api/v1/integrations/user-mappings")).get_json())["items"] == []
    olga_settings = await (await olga.get("/api/v1/integrations/chat-settings/slack")).get_json()
    assert olga_settings["channels"] == {} and olga_settings["enabled"] is False
    # a member of ada's org cannot claim an account (ada's, mapped above, or any other)
    await join_org(ada, olga)
    claimed = await olga.post(
        "/api/v1/integrations/user-mappings", json={"service": "slack", "external_id": "U2", "external_name": "me"}
    )
    assert claimed.status_code == 403, await claimed.get_data(as_text=True)
    # and the owner's own stay
    assert (await (await ada.get("/api/v1/integrations/user-mappings")).get_json())["total"] == 1
    assert (await ada.delete(f"/api/v1/integrations/user-mappings/{mapping['id']}")).status_code == 204


async def test_the_catalog_describes_each_connector(integ_app, model):
    ada = await _account(integ_app, model)
    summary = await (await ada.get("/api/v1/connectors")).get_json()
    assert {c["type"] for c in summary["items"]} == set(CONNECTORS)
    full = await (await ada.get("/api/v1/connectors/linear")).get_json()
    assert "oauth2" in full["auth"] and full["oauth_configured"] is True
    assert {t["kind"] for t in full["tools"]} == {"read", "write"} and full["tools"][0]["parameters"]["properties"]
    missing = await ada.get("/api/v1/connectors/nope")
    assert missing.status_code == 404


async def test_credentials_follow_a_secret_key_rotation(integ_app, providers, smtp, model):
    case = cases(providers.url, smtp.port)["github"]
    ada = await _account(integ_app, model)
    connection = await (await connect(ada, case)).get_json()
    # kept under the former SECRET_KEY (now in SECRET_KEY_PREVIOUS): still works, re-encrypted on use
    former = SecretBox(FORMER_KEY, purpose=CREDENTIALS)
    await Connection.filter(id=connection["id"]).update(secret=former.encrypt(json.dumps(case.credentials)))
    listed = await call_tool(integ_app, ada, "github_list_issues", {"repo": "acme/app"})
    assert listed["issues"][0]["number"] == 7
    row = await Connection.get(id=connection["id"])
    assert (
        not former.is_current(row.secret)
        and json.loads(
            SecretBox(integ_app.extensions["runtime"].settings.resolved_secret_key(), purpose=CREDENTIALS).decrypt(
                row.secret
            )
        )
        == case.credentials
    )
    # kept under a key the server no longer has: the connection asks to be connected again
    lost = SecretBox("a-key-nobody-has-any-more-0123456789abcdef", purpose=CREDENTIALS)
    await Connection.filter(id=connection["id"]).update(secret=lost.encrypt(json.dumps(case.credentials)))
    with pytest.raises(Exception) as failed:
        await call_tool(integ_app, ada, "github_list_issues", {"repo": "acme/app"})
    assert getattr(failed.value, "code", None) == "integration_needs_reconnect"
    assert (await Connection.get(id=connection["id"])).status == "needs_reconnect"

"""Operations: `/metrics`, `/healthz`, `/cron/retention`, the first-run link, API keys on and off, `/me/...`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from switchboard.platform.audit.models import AuditLog
from switchboard.platform.auth import SESSION_COOKIE
from tests.chat.helpers import ask, wait_status

LOOPBACK = {"client": ("127.0.0.1", 40000)}
ELSEWHERE = {"client": ("203.0.113.9", 40000)}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _total(samples, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and all((k, x) in ls for k, x in labels.items()))


async def test_metrics_parse_move_with_work_and_need_the_token_from_afar(signup, client, worker, settings, monkeypatch):
    ada = await signup()
    before = await client.get("/metrics", scope_base=LOOPBACK)
    assert before.status_code == 200, await before.get_data(as_text=True)
    first = _samples(await before.get_data(as_text=True))

    task = (await ask(ada, "What does the travel policy say?"))["task_id"]
    await wait_status(ada, task, ("completed",))
    after = _samples(await (await client.get("/metrics", scope_base=LOOPBACK)).get_data(as_text=True))

    route = {"route": "/api/v1/chat/stream", "method": "POST"}
    assert _total(after, "switchboard_request_seconds_count", **route) == 1 + _total(
        first, "switchboard_request_seconds_count", **route
    )
    assert _total(after, "switchboard_jobs_finished_last_hour", function="run_chat_task") >= 1
    assert ("switchboard_queue_depth", ()) in after

    refused = await client.get("/metrics", scope_base=ELSEWHERE)
    assert refused.status_code == 401
    monkeypatch.setattr(settings, "metrics_token", "scrape-me")
    wrong = await client.get("/metrics", scope_base=ELSEWHERE, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    allowed = await client.get("/metrics", scope_base=ELSEWHERE, headers={"Authorization": "Bearer scrape-me"})
    assert allowed.status_code == 200
    assert _samples(await allowed.get_data(as_text=True))


async def test_healthz_is_health(client, clean):
    health, healthz = await client.get("/health"), await client.get("/healthz")
    assert healthz.status_code == health.status_code == 200
    assert (await healthz.get_json())["status"] == (await health.get_json())["status"] == "ok"


async def test_retention_refuses_a_wrong_secret_and_says_what_it_pruned(signup, client, settings, monkeypatch):
    ada = await signup()
    old = await AuditLog.create(action="test.ancient", actor_email=ada.email)
    await AuditLog.filter(id=old.id).update(
        created_at=datetime.now(UTC) - timedelta(days=settings.audit_retention_days + 1)
    )
    assert (await client.post("/cron/retention")).status_code == 401  # no secret configured: refused
    monkeypatch.setattr(settings, "cron_secret", "prune-please")
    wrong = await client.post("/cron/retention", headers={"Authorization": "Bearer prune-nope"})
    assert wrong.status_code == 401
    assert await AuditLog.filter(id=old.id).exists()
    done = await client.post("/cron/retention", headers={"Authorization": "Bearer prune-please"})
    assert done.status_code == 200, await done.get_data(as_text=True)
    pruned = (await done.get_json())["pruned"]
    assert pruned["audit_logs"] == 1 and pruned["workflow_schedule_fires"] == 0 and "sessions" in pruned
    assert not await AuditLog.filter(id=old.id).exists()


async def test_the_bootstrap_link_works_once_and_only_while_nobody_has_an_account(app, client, settings, monkeypatch):
    assert (await client.get("/bootstrap", query_string={"token": "anything"})).status_code == 404  # not armed
    monkeypatch.setattr(settings, "bootstrap_token", "first-run-token")
    wrong = await client.get("/bootstrap", query_string={"token": "guess"})
    assert wrong.status_code == 404
    opened = await client.get("/bootstrap", query_string={"token": "first-run-token"})
    assert opened.status_code == 200 and 'href="/settings"' in await opened.get_data(as_text=True)
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200, await me.get_data(as_text=True)
    assert (await me.get_json())["is_superadmin"] is True
    stranger = app.test_client()
    again = await stranger.get("/bootstrap", query_string={"token": "first-run-token"})
    assert again.status_code == 404
    assert SESSION_COOKIE not in again.headers.get("Set-Cookie", "")


async def test_an_api_key_can_be_disabled_and_enabled_again(signup, app):
    ada = await signup()
    key = await (await ada.post("/api/v1/auth/api-keys", json={"name": "ci"})).get_json()
    robot = app.test_client()
    with_key = {"X-API-Key": key["key"]}
    assert (await robot.get("/api/v1/auth/me", headers=with_key)).status_code == 200
    disabled = await ada.post(f"/api/v1/auth/api-keys/{key['id']}/disable")
    assert disabled.status_code == 200 and (await disabled.get_json())["disabled_at"] is not None
    refused = await robot.get("/api/v1/auth/me", headers=with_key)
    assert refused.status_code == 401 and "disabled" in await refused.get_data(as_text=True)
    enabled = await ada.post(f"/api/v1/auth/api-keys/{key['id']}/enable")
    assert enabled.status_code == 200 and (await enabled.get_json())["disabled_at"] is None
    assert (await robot.get("/api/v1/auth/me", headers=with_key)).status_code == 200
    assert (await ada.delete(f"/api/v1/auth/api-keys/{key['id']}")).status_code == 204
    assert (await ada.post(f"/api/v1/auth/api-keys/{key['id']}/enable")).status_code == 409


async def test_my_organizations_and_teams(signup):
    ada = await signup(name="Ada")
    orgs = await (await ada.get("/api/v1/me/organizations")).get_json()
    assert [o["id"] for o in orgs] == [ada.org_id] and orgs[0]["role"] == "owner"
    group = await ada.post(f"/api/v1/orgs/{ada.org_id}/groups", json={"name": "Research", "description": ""})
    assert group.status_code == 201, await group.get_data(as_text=True)
    group_id = (await group.get_json())["id"]
    joined = await ada.put(f"/api/v1/orgs/{ada.org_id}/groups/{group_id}/members/{ada.user_id}", json={})
    assert joined.status_code in (200, 201), await joined.get_data(as_text=True)
    teams = await (await ada.get("/api/v1/me/teams")).get_json()
    assert [t["name"] for t in teams] == ["Research"]


async def test_wrong_operation_secrets_are_limited_per_address(client, settings, monkeypatch):
    """Guessing CRON_SECRET, METRICS_TOKEN or the bootstrap token: ten wrong tries a minute from one address,
    then 429 even for the right secret; another address is not held back."""
    monkeypatch.setattr(settings, "cron_secret", "prune-please")
    monkeypatch.setattr(settings, "metrics_token", "scrape-me")
    guesses = [
        client.post("/cron/retention", headers={"Authorization": f"Bearer guess-{i}"}, scope_base=ELSEWHERE)
        for i in range(5)
    ] + [client.get("/metrics", headers={"Authorization": f"Bearer guess-{i}"}, scope_base=ELSEWHERE) for i in range(4)]
    for guess in guesses:
        assert (await guess).status_code == 401
    assert (await client.get("/bootstrap", query_string={"token": "guess"}, scope_base=ELSEWHERE)).status_code == 404
    held = await client.post("/cron/retention", headers={"Authorization": "Bearer prune-please"}, scope_base=ELSEWHERE)
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    assert (await held.get_json())["error"] == "rate_limited"
    elsewhere = {"client": ("198.51.100.7", 40000)}
    scraped = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}, scope_base=elsewhere)
    assert scraped.status_code == 200
    assert (await client.get("/metrics", scope_base=LOOPBACK)).status_code == 200  # loopback asks for no secret

"""The production shape across processes: web enqueues, a separate worker runs, SSE delivers, resume is exact."""

from __future__ import annotations

import httpx
import pytest
from httpx_sse import aconnect_sse


async def _start_check(http: httpx.AsyncClient) -> str:
    response = await http.post("/api/v1/system/checks")
    assert response.status_code == 202
    return str(response.json()["id"])


async def _read(
    http: httpx.AsyncClient, path: str, *, limit: int | None = None, **kwargs
) -> list[tuple[str, str, dict]]:
    """(id, event, data) of each event until `limit` events or the terminal one."""
    got: list[tuple[str, str, dict]] = []
    async with aconnect_sse(http, "GET", path, **kwargs) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        async for sse in source.aiter_sse():
            got.append((sse.id, sse.event, sse.json()))
            if len(got) == limit or sse.event in ("complete", "error", "cancelled"):
                break
    return got


@pytest.mark.parametrize("resume_by", ["header", "query"])
async def test_worker_process_runs_job_and_resumed_sse_is_exact(live_url, worker, superadmin_headers, resume_by):
    async with httpx.AsyncClient(base_url=live_url, timeout=20, headers=superadmin_headers) as http:
        check_id = await _start_check(http)
        progress = f"/api/v1/system/checks/{check_id}/progress"

        first = await _read(http, progress, limit=3)
        assert [e[1] for e in first][:1] == ["task_started"]
        last_id = first[-1][0]
        if resume_by == "header":
            rest = await _read(http, progress, headers={"Last-Event-ID": last_id})
        else:
            rest = await _read(http, progress, params={"last_id": last_id})

        state = (await http.get(f"{progress}/state")).json()
        check = (await http.get(f"/api/v1/system/checks/{check_id}")).json()

    streamed = [e[0] for e in first + rest]
    assert streamed == [e["event_id"] for e in state["events"]], "resumed stream must equal the stored one"
    assert len(set(streamed)) == len(streamed), "no event delivered twice"
    assert rest[-1][1] == "complete"
    assert all(e[2]["task_id"] == check_id and e[2]["event_id"] == e[0] for e in first + rest)
    assert check["status"] == "completed" and all(r["ok"] for r in check["results"].values())
    assert check_id in worker.output(), "the separate worker process ran the job"


async def test_sse_client_waiting_before_the_job_gets_every_event_live(live_url, worker, superadmin_headers):
    async with httpx.AsyncClient(base_url=live_url, timeout=20, headers=superadmin_headers) as http:
        check_id = await _start_check(http)
        events = await _read(http, f"/api/v1/system/checks/{check_id}/progress")
    kinds = [e[1] for e in events]
    assert kinds[0] == "task_started" and kinds[-1] == "complete"
    assert kinds.count("step_started") == kinds.count("step_completed") == 4


async def test_unknown_task_progress_is_404_json(live_url, superadmin_headers):
    async with httpx.AsyncClient(base_url=live_url, timeout=5, headers=superadmin_headers) as http:
        missing = await http.get("/api/v1/system/checks/00000000-0000-0000-0000-000000000000/progress")
        malformed = await http.get("/api/v1/system/checks/not-a-uuid/progress")
        bad_resume = await http.post("/api/v1/system/checks")
        bad = await http.get(f"/api/v1/system/checks/{bad_resume.json()['id']}/progress", params={"last_id": "zzz"})
    assert missing.status_code == malformed.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "last_id"


async def test_self_checks_are_for_superadmins_only(live_url, superadmin_headers):
    async with httpx.AsyncClient(base_url=live_url, timeout=5) as http:
        anonymous = await http.post("/api/v1/system/checks")
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
        register = await http.post("/api/v1/auth/register", json={"email": "m@example.com", "password": "member pw 1"})
        assert register.status_code == 201
        token = await http.post("/api/v1/auth/login", json={"email": "m@example.com", "password": "member pw 1"})
        member = await http.post(
            "/api/v1/system/checks", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert member.status_code == 403

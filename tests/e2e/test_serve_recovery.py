"""Under a running `switchboard serve` on the embedded default, each child SIGKILLed in turn (its worker
process, the embedded Valkey, the embedded PostgreSQL) is restarted, `/health` is back to ok, and a
chat task that was streaming when the child died still completes with its whole answer."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest

from tests.fakes.openai_server import FakeOpenAI, Turn
from tests.support import processes

ANSWER = [f"word{i} " for i in range(16)]
HEALTHY_AGAIN_S = 15
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[processes.Proc, str]]:
    """A `switchboard serve` with its embedded servers and one worker process of its own."""
    home = tmp_path_factory.mktemp("serve-recovery")
    env = {
        "SWITCHBOARD_DATA_DIR": str(home / "var"),
        "EMBEDDED_WORKER": "1",
        "LOG_LEVEL": "INFO",
        "RATE_LIMITS": json.dumps({"register": "100/minute", "api_user": "100000/minute", "api_ip": "100000/minute"}),
    }
    port = processes.free_port()
    proc = processes.start_serve(env, port, home / "serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_healthy(proc, url, timeout=120)
        yield proc, url
    finally:
        children = psutil.Process(proc.pid).children(recursive=True)
        assert proc.stop() == 0, proc.output()[-3000:]
        _, alive = psutil.wait_procs(children, timeout=10)
        assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == [], "serve left children behind"


def _child(serve_pid: int, kind: str) -> psutil.Process:
    """serve's child process of `kind`: its worker, Valkey or the PostgreSQL postmaster."""
    marks = {"worker": "switchboard worker", "valkey": "valkey-server", "postgres": "postgres -D"}
    found = [c for c in psutil.Process(serve_pid).children() if marks[kind] in " ".join(c.cmdline())]
    assert len(found) == 1, f"serve has {len(found)} {kind} children"
    return found[0]


async def _signed_in_with_model(http: httpx.AsyncClient, fake: FakeOpenAI) -> None:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    registered = await http.post("/api/v1/auth/register", json={"email": email, "password": "pass word 1"})
    assert registered.status_code == 201, registered.text
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": "pass word 1"})
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    saved = await http.put(
        "/api/v1/settings/models",
        json={
            "provider": "openai_compatible",
            "base_url": fake.base_url,
            "chat_model": "fake-model",
            "api_key": "sk-test",
        },
    )
    assert saved.status_code == 200, saved.text


async def _until_streaming(http: httpx.AsyncClient, task_id: str) -> None:
    """Until the task has streamed a few words of its answer (the model is mid-answer)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = (await http.get(f"/api/v1/chat/{task_id}/progress/state")).json()
        assert state.get("status") in ("queued", "processing"), state
        if sum(e["update_type"] == "text_delta" for e in state["events"]) >= 3:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the task never streamed: {state}")


async def _until_healthy_again(base_url: str, killed: psutil.Process) -> None:
    """Until `/health` says ok with the killed child gone for good (reaped, not a defunct process)."""
    deadline = time.monotonic() + HEALTHY_AGAIN_S
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while True:
            try:
                health = await http.get("/health")
            except httpx.HTTPError:
                health = None
            if health is not None and health.status_code == 200 and not killed.is_running():
                return
            assert time.monotonic() < deadline, f"/health not ok {HEALTHY_AGAIN_S}s after the kill"
            await asyncio.sleep(0.1)


async def _result(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        try:
            answer = await http.get(f"/api/v1/chat/{task_id}/result")
            if answer.status_code == 200:
                result: dict[str, Any] = answer.json()
                return result
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the task never finished"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("kind", ["worker", "valkey", "postgres"])
async def test_a_killed_child_is_restarted_and_the_task_in_flight_completes(served, kind):
    proc, url = served
    with FakeOpenAI() as fake:
        fake.responder = lambda body: Turn(text=tuple(ANSWER), delay=0.25)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await _signed_in_with_model(http, fake)
            started = await http.post("/api/v1/chat/stream", json={"message": "Say the words", "mode": "ask"})
            task_id = started.json()["task_id"]
            await _until_streaming(http, task_id)
            victim = _child(proc.pid, kind)
            victim.kill()
            await _until_healthy_again(url, victim)
            result = await _result(http, task_id)
    assert _child(proc.pid, kind).pid != victim.pid, f"no new {kind} process"
    assert result["status"] == "completed", result
    assert result["response"] == "".join(ANSWER), "the whole answer, once"
    defunct = [c for c in psutil.Process(proc.pid).children() if c.status() == psutil.STATUS_ZOMBIE]
    assert defunct == [], "a dead child was left unreaped"

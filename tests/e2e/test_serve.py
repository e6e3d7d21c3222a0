"""`switchboard serve` on the embedded default: starts healthy with its servers and worker, keeps them
running (each child SIGKILLed in turn is restarted, `/health` is back to ok and a chat task that was
streaming when the child died still completes), stops clean and restarts on the same data.

The tests share one serve, in the order written: the last one stops it.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.fakes.openai_server import FakeOpenAI, Turn
from tests.support import processes

ANSWER = [f"word{i} " for i in range(16)]
HEALTHY_AGAIN_S = 15
WORKER_READY_S = 90  # the worker process loads the embedding model before it takes jobs
pytestmark = pytest.mark.timeout(300)  # a serve's start and a worker's restart on a busy machine


@dataclass
class Served:
    proc: processes.Proc
    url: str
    env: dict[str, str]
    home: Path


def _children(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _all_gone(procs: list[psutil.Process], timeout: float = 10) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture(scope="module")
def first_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A `switchboard serve` on a new data dir: embedded servers, one worker process of its own."""
    home = tmp_path_factory.mktemp("serve")
    env = {
        "SWITCHBOARD_DATA_DIR": str(home / "var"),
        "EMBEDDED_WORKER": "1",
        "LOG_LEVEL": "INFO",
        # a task whose worker died is taken over once its lease runs out: seconds here, not the default 15
        "CHAT_TASK_LEASE_SECONDS": "5",
        "RATE_LIMITS": json.dumps({"register": "100/minute", "api_user": "100000/minute", "api_ip": "100000/minute"}),
    }
    port = processes.free_port()
    proc = processes.start_serve(env, port, home / "serve1.log")
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_healthy(proc, url, timeout=120)
        yield Served(proc, url, env, home)
    finally:
        if proc.popen.poll() is None:
            children = _children(proc.pid)
            proc.stop()
            assert _all_gone(children) == [], "serve left children behind"


async def _self_check_completes(http: httpx.AsyncClient) -> str:
    check = (await http.post("/api/v1/system/checks")).json()
    deadline = time.monotonic() + WORKER_READY_S
    while (await http.get(f"/api/v1/system/checks/{check['id']}")).json()["status"] != "completed":
        assert time.monotonic() < deadline, "serve's worker process did not run the self-check"
        await asyncio.sleep(0.1)
    return str(check["id"])


async def _sign_in(http: httpx.AsyncClient, password: str) -> None:
    login = await http.post("/api/v1/auth/login", json={"email": "admin@example.com", "password": password})
    assert login.status_code == 200, "the first admin can sign in with the printed password"
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"


def _password(proc: processes.Proc) -> str:
    found = re.search(r"password: (\S+)", proc.output())
    assert found, proc.output()[-3000:]
    return found.group(1)


async def test_serve_starts_healthy_with_its_servers_and_worker(first_serve):
    proc, url = first_serve.proc, first_serve.url
    health = httpx.get(f"{url}/health").json()
    assert health["status"] == "ok" and health["db"] and health["queue"] and health["events"]
    commands = [" ".join(c.cmdline()) for c in psutil.Process(proc.pid).children()]
    assert any("postgres -D" in c for c in commands) and any("valkey-server" in c for c in commands)
    assert sum("switchboard worker" in c for c in commands) == 1, commands
    password = _password(proc)
    assert password not in " ".join(line for line in proc.output().splitlines() if line.startswith("{")), (
        "the generated password must not reach the JSON logs"
    )
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await _sign_in(http, password)
        await _self_check_completes(http)


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
async def test_a_killed_child_is_restarted_and_the_task_in_flight_completes(first_serve, kind):
    proc, url = first_serve.proc, first_serve.url
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


async def test_serve_stops_clean_and_restarts_on_the_same_data(first_serve):
    proc, url = first_serve.proc, first_serve.url
    password = _password(proc)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        await _sign_in(http, password)
        check_id = await _self_check_completes(http)
    children = _children(proc.pid)
    assert proc.stop(signal.SIGINT) == 0, proc.output()[-3000:]
    assert _all_gone(children) == [], "Ctrl-C left child processes behind"

    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    # no worker this time: nothing runs jobs, and its start (the model's load) would only slow the others
    proc = processes.start_serve({**first_serve.env, "EMBEDDED_WORKER": "0"}, port, first_serve.home / "serve2.log")
    try:
        processes.wait_healthy(proc, url, timeout=60)
        assert "Switchboard is ready. Sign in" not in proc.output(), "the first admin is created once"
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await _sign_in(http, password)
            again = await http.get(f"/api/v1/system/checks/{check_id}")
        assert again.status_code == 200 and again.json()["status"] == "completed", "data was not kept"
        children = _children(proc.pid)
    finally:
        proc.stop(signal.SIGTERM)
    assert _all_gone(children) == [], "SIGTERM left child processes behind"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    from switchboard.config import Settings

    first = Settings(_env_file=None, SWITCHBOARD_DATA_DIR=tmp_path).resolved_secret_key()
    second = Settings(_env_file=None, SWITCHBOARD_DATA_DIR=tmp_path).resolved_secret_key()
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_is_required_in_production(tmp_path):
    import pytest

    from switchboard.config import Settings

    settings = Settings(
        _env_file=None, SWITCHBOARD_DATA_DIR=tmp_path, database_url="postgres://x/y", redis_url="redis://x"
    )
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        settings.resolved_secret_key()

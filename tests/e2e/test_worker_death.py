"""A worker process killed with SIGKILL mid-task: another worker finishes the work, nothing is done twice."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from switchboard.chat.models import ChatTask
from switchboard.ingestion.models import Chunk, Document
from tests.fakes.openai_server import FakeOpenAI, Turn
from tests.support import processes
from tests.support.accounts import multipart

ANSWER = [f"word{i} " for i in range(24)]


@dataclass
class Cluster:
    """One web process and two worker processes on a queue of their own."""

    url: str
    workers: list[processes.Proc]
    env: dict[str, str] = field(default_factory=dict)
    logs: Path = Path()

    def worker_with_pid(self, pid: int) -> processes.Proc:
        return next(w for w in self.workers if w.pid == pid)


@pytest.fixture(scope="module")
def running(process_env, app, tmp_path_factory) -> Iterator[Cluster]:
    """The module's web process and two workers, on a queue of their own, with short leases so that a dead
    worker's work is taken over in seconds."""
    logs = tmp_path_factory.mktemp("death")
    env = {
        **process_env,
        "QUEUE_NAME": f"switchboard:death:{uuid.uuid4().hex[:8]}",
        "CHAT_TASK_LEASE_SECONDS": "5",
        "DOCUMENT_LEASE_SECONDS": "5",
    }
    port = processes.free_port()
    serve = processes.start_serve(env, port, logs / "serve.log")
    cluster = Cluster(
        f"http://127.0.0.1:{port}", [processes.start_worker(env, logs / f"worker{i}.log") for i in range(2)]
    )
    cluster.env, cluster.logs = env, logs
    try:
        processes.wait_healthy(serve, cluster.url)
        for worker in cluster.workers:
            processes.wait_worker_ready(worker)
        yield cluster
    finally:
        for proc in [serve, *cluster.workers]:
            proc.stop()


@pytest.fixture
def cluster(running: Cluster) -> Cluster:
    """The module's cluster with two live workers (one killed by an earlier test is replaced)."""
    for i, worker in enumerate(running.workers):
        if worker.popen.poll() is not None:
            running.workers[i] = processes.start_worker(running.env, running.logs / f"worker{i}-{worker.pid}.log")
            processes.wait_worker_ready(running.workers[i])
    return running


async def _account(http: httpx.AsyncClient) -> dict[str, str]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    assert (
        await http.post("/api/v1/auth/register", json={"email": email, "password": "pass word 1"})
    ).status_code == 201
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": "pass word 1"})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _kill_lease_holder(cluster: Cluster, model: Any, row_id: Any, ready: Any, timeout: float = 60) -> int:
    """SIGKILL the worker holding the row's lease once `ready(row)` is true; returns its pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await model.get(id=row_id)
        if row.lease_owner and await ready(row):
            pid = int(row.lease_owner.split(":")[1])
            victim = cluster.worker_with_pid(pid)
            os.kill(victim.pid, signal.SIGKILL)
            victim.popen.wait(5)
            return pid
        await asyncio.sleep(0.05)
    raise AssertionError("the work never started")


async def _collect(http: httpx.AsyncClient, path: str, sink: list[dict[str, Any]], **kwargs: Any) -> None:
    async with aconnect_sse(http, "GET", path, **kwargs) as source:
        async for sse in source.aiter_sse():
            if not sse.data:  # a heartbeat comment
                continue
            sink.append({"id": sse.id, "event": sse.event, "data": sse.json()})
            if sse.event in ("complete", "error", "cancelled"):
                return


async def test_killed_worker_mid_chat_task_another_finishes_and_no_event_repeats(cluster):
    with FakeOpenAI() as fake:
        fake.responder = lambda body: Turn(text=tuple(ANSWER), delay=0.2)
        async with httpx.AsyncClient(base_url=cluster.url, timeout=90) as http:
            auth = await _account(http)
            http.headers.update(auth)
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
            started = (await http.post("/api/v1/chat/stream", json={"message": "Say the words", "mode": "ask"})).json()
            task_id = started["task_id"]
            live: list[dict[str, Any]] = []
            follower = asyncio.create_task(_collect(http, f"/api/v1/chat/{task_id}/progress", live))

            async def streaming(_: ChatTask) -> bool:
                return sum(e["event"] == "text_delta" for e in live) >= 3

            await _kill_lease_holder(cluster, ChatTask, task_id, streaming)
            await asyncio.wait_for(follower, timeout=90)  # the other worker finishes it (5 s leases here)
            result = (await http.get(f"/api/v1/chat/{task_id}/result")).json()
            resumed: list[dict[str, Any]] = []
            await _collect(http, f"/api/v1/chat/{task_id}/progress", resumed, params={"last_id": live[4]["id"]})

    assert result["status"] == "completed", result
    assert result["response"] == "".join(ANSWER), "the answer is whole, from the run that finished"
    ids = [e["id"] for e in live]
    assert len(ids) == len(set(ids)) and ids == sorted(ids), "no event id delivered twice, in order"
    starts = [e for e in live if e["event"] == "task_started"]
    assert len(starts) == 2 and starts[1]["data"]["data"]["resumed"] is True
    assert [e["id"] for e in resumed] == ids[5:], "a resuming client gets exactly the rest"


def _big_text(paragraphs: int) -> bytes:
    return "\n\n".join(
        f"Section {i}. The harbour master recorded vessel number {i} arriving with cargo of grain, timber and salt, "
        f"inspected by officer {i % 17} at berth {i % 23}; the manifest listed {i * 3} crates and {i % 9} passengers."
        for i in range(paragraphs)
    ).encode()


async def test_killed_worker_mid_ingestion_document_completes_with_each_chunk_once(cluster):
    async with httpx.AsyncClient(base_url=cluster.url, timeout=90) as http:
        http.headers.update(await _account(http))
        body, content_type = multipart("harbour-log.txt", _big_text(900))
        uploaded = await http.post("/api/v1/documents/upload", content=body, headers={"Content-Type": content_type})
        assert uploaded.status_code == 202, uploaded.text
        document_id = uploaded.json()["id"]

        async def embedding(document: Document) -> bool:
            return document.progress >= 0.3

        await _kill_lease_holder(cluster, Document, document_id, embedding, timeout=120)
        deadline = time.monotonic() + 150
        while (status := (await http.get(f"/api/v1/documents/{document_id}/status")).json())["status"] not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline, f"still {status} after the watchdog window"
            await asyncio.sleep(0.25)
        hits = (
            await http.post("/api/v1/documents/query", json={"query": "vessel number 777", "mode": "text", "top_k": 3})
        ).json()
    assert status["status"] == "completed", status
    rows = await Chunk.filter(document_id=document_id).values_list("index", flat=True)
    assert len(rows) == len(set(rows)) == status["chunk_count"], "each chunk stored exactly once"
    assert sorted(rows) == list(range(len(rows)))
    assert any("vessel number 777 " in h["text"] for h in hits["results"])

"""The org's live stream (`/api/v1/events/stream` and `/ws`): each client gets exactly what its user may see.

Two users of one org and one of another each hold an SSE and a WebSocket client while they chat,
upload and run a workflow (a real worker process does the work). The truth is the org stream
itself, read from Redis and filtered by who may see each event; every client must receive
exactly that, in order, and a client that reconnects after an id gets exactly the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from redis.asyncio import Redis

from tests.chat.helpers import ask, parse_sse, wait_status
from tests.ingestion.test_documents import wait_processed
from tests.support.accounts import Account, join_org, upload
from tests.workflows.conftest import simple_definition, wait_run

STREAM = "/api/v1/events/stream"
WAIT_SECONDS = 90


class SseClient:
    """One browser tab on the SSE endpoint: every event it received, in order."""

    def __init__(self, account: Account, query: dict[str, str] | None = None) -> None:
        self.account, self.query = account, query
        self.events: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> SseClient:
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.connected.wait(), 10)
        return self

    async def _run(self) -> None:
        request = self.account.client.request(STREAM, headers=self.account.headers, query_string=self.query)
        async with request as conn:
            await conn.send_complete()
            text = ""
            while True:
                text += (await conn.receive()).decode()
                self.connected.set()
                complete, _, text = text.rpartition("\n\n")
                self.events.extend(parse_sse(complete))

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class WsClient:
    """One WebSocket on `/api/v1/events/ws`: every event message it received, in order."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.events: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> WsClient:
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.connected.wait(), 10)
        return self

    async def _run(self) -> None:
        async with self.account.client.websocket("/api/v1/events/ws", headers=self.account.headers) as ws:
            while True:
                message = json.loads(await ws.receive())
                self.connected.set()  # the first message: a heartbeat or an event
                if message["event"] != "heartbeat":
                    self.events.append(message)

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def _visible_in_org(settings, account: Account) -> list[tuple[str, str, str]]:
    """(id, event, kind) of every event on the account's org stream that the account may see, from Redis."""
    redis = Redis.from_url(settings.redis_url)
    try:
        entries = await redis.xrange(f"sb:events:org:{account.org_id}")
    finally:
        await redis.aclose()
    seen = []
    for entry_id, fields in entries:
        audience = fields[b"a"].decode()
        if not audience or account.user_id in audience.split(","):
            seen.append((entry_id.decode(), fields[b"t"].decode(), fields[b"k"].decode()))
    return seen


def _ids(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["id"], e["event"], e["data"]["kind"]) for e in events]


async def _until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_each_client_gets_exactly_what_its_user_may_see(signup, worker, settings):
    alice = await signup(email="alice@live.example", name="Alice")
    bob = await signup(email="bob@live.example", name="Bob")
    await join_org(alice, bob)
    carol = await signup(email="carol@other.example", name="Carol")
    people = {"alice": alice, "bob": bob, "carol": carol}
    sse = {name: await SseClient(a).start() for name, a in people.items()}
    ws = {name: await WsClient(a).start() for name, a in people.items()}
    chat_only = await SseClient(alice, {"kinds": "chat"}).start()
    try:
        # alice chats (hers alone), bob uploads to his own collection (his alone), alice runs a workflow
        # (the whole org), carol chats in her own org
        alice_task = (await ask(alice, "What is in my documents?"))["task_id"]
        carol_task = (await ask(carol, "Hello from the other org"))["task_id"]
        uploaded = await upload(bob, "notes.txt", b"Live stream notes: the quarterly numbers are in.")
        assert uploaded.status_code == 202, await uploaded.get_data(as_text=True)
        document = await uploaded.get_json()
        created = await alice.post("/api/v1/workflows", json=simple_definition("live-calculation"))
        assert created.status_code == 201, await created.get_data(as_text=True)
        workflow = await created.get_json()
        started = await alice.post(f"/api/v1/workflows/{workflow['id']}/run", json={"input": {"a": 6}})
        assert started.status_code == 202, await started.get_data(as_text=True)
        run_id = (await started.get_json())["run_id"]

        await wait_status(alice, alice_task, ("completed",))
        await wait_status(carol, carol_task, ("completed",))
        await wait_processed(bob, document["id"])
        await wait_run(alice, workflow["id"], run_id)
        # a task's status is written just before the event that tells it: wait for the ends on the org stream
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            truth = {name: await _visible_in_org(settings, a) for name, a in people.items()}
            ends = {name: {e for _, e, _ in seen} for name, seen in truth.items()}
            if {"complete"} <= ends["alice"] and {"complete"} <= ends["carol"] and {"completed"} <= ends["bob"]:
                break
            assert time.monotonic() < deadline, f"the ends never reached the org stream: {ends}"
            await asyncio.sleep(0.05)

        # the org stream holds what each did, scoped: alice sees no document, bob no chat, carol only her chat
        assert {k for _, _, k in truth["alice"]} == {"chat", "workflow"}
        assert {k for _, _, k in truth["bob"]} == {"document", "workflow"}
        assert {k for _, _, k in truth["carol"]} == {"chat"}
        assert any(e == "complete" for _, e, _ in truth["alice"]) and any(e == "complete" for _, e, _ in truth["carol"])
        assert any(e == "completed" for _, e, _ in truth["bob"])
        # the same events as the task's own stream, in the same order
        progress = parse_sse(await (await alice.get(f"/api/v1/chat/{alice_task}/progress")).get_data(as_text=True))
        assert [e for _, e, k in truth["alice"] if k == "chat"] == [e["event"] for e in progress]

        for name in people:
            await _until(lambda n=name: len(sse[n].events) >= len(truth[n]), f"{name}'s SSE events")
            await _until(lambda n=name: len(ws[n].events) >= len(truth[n]), f"{name}'s WebSocket events")
            assert _ids(sse[name].events) == truth[name], name
            assert _ids(ws[name].events) == truth[name], name
        chats = [t for t in truth["alice"] if t[2] == "chat"]
        await _until(lambda: len(chat_only.events) >= len(chats), "the chat-only client's events")
        assert _ids(chat_only.events) == chats
        assert all(str(run_id) in e["data"]["stream"] for e in sse["bob"].events if e["data"]["kind"] == "workflow")
        assert not any(carol.user_id in json.dumps(e) for e in sse["alice"].events + sse["bob"].events)

        # reconnecting after an id gives exactly the rest, on either transport
        middle = len(truth["bob"]) // 2
        resumed = await SseClient(bob, {"last_id": truth["bob"][middle][0]}).start()
        await _until(lambda: len(resumed.events) >= len(truth["bob"]) - middle - 1, "the resumed events")
        await asyncio.sleep(0.3)  # anything extra would have arrived by now
        await resumed.stop()
        assert _ids(resumed.events) == truth["bob"][middle + 1 :]
        async with bob.client.websocket(
            "/api/v1/events/ws", headers=bob.headers, query_string={"last_id": truth["bob"][middle][0]}
        ) as again:
            rest = []
            while len(rest) < len(truth["bob"]) - middle - 1:
                message = json.loads(await asyncio.wait_for(again.receive(), 10))
                if message["event"] != "heartbeat":
                    rest.append(message)
        assert _ids(rest) == truth["bob"][middle + 1 :]
    finally:
        for client in [*sse.values(), *ws.values(), chat_only]:
            await client.stop()


async def test_bad_filters_and_cursors_are_refused_and_anonymous_callers_are_not_let_in(signup, client):
    ada = await signup()
    unknown = await ada.get(STREAM, query_string={"kinds": "chat,gossip"})
    assert unknown.status_code == 422 and "kinds" in await unknown.get_data(as_text=True)
    malformed = await ada.get(STREAM, query_string={"last_id": "yesterday"})
    assert malformed.status_code == 422
    anonymous = await client.get(STREAM)
    assert anonymous.status_code == 401


async def test_a_stream_ends_once_its_reader_is_removed_from_the_org(signup, monkeypatch):
    from switchboard.platform.live import service as live_service

    monkeypatch.setattr(live_service, "RECHECK_SECONDS", 0.2)  # asked again every 15 s in production
    admin, member = await signup(), await signup()
    await join_org(admin, member)
    request = member.client.request(STREAM, headers=member.headers)
    async with request as conn:
        await conn.send_complete()
        assert b"connected" in await asyncio.wait_for(conn.receive(), 10)
        removed = await admin.delete(f"/api/v1/orgs/{admin.org_id}/members/{member.user_id}")
        assert removed.status_code in (200, 204), await removed.get_data(as_text=True)
        received = b""
        while (chunk := await asyncio.wait_for(conn.receive(), 10)) != b"":  # b"": the body ended
            received += chunk
    assert b"event:" not in received  # nothing of the org after removal, and no "reconnect" (overflow) either

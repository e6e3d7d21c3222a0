"""An approval's people hear of every change on the org's live stream, so an open inbox moves without a poll:
a decision counted while it waits for more, its end, an expiry and a void alike; nobody else hears of it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.approvals import Approval, expire_overdue, void_for_subject
from tests.approvals.conftest import INBOX
from tests.platform.test_live import SseClient


async def _heard(client: SseClient, approval: Approval, update_type: str) -> dict[str, Any]:
    """The data of the first `update_type` event about `approval` that the client received."""
    deadline = time.monotonic() + 30
    while True:
        for event in client.events:
            if event["event"] == update_type and event["data"]["approval_id"] == str(approval.id):
                return event["data"]
        assert time.monotonic() < deadline, f"{update_type} of {approval.title} never arrived"
        await asyncio.sleep(0.05)


async def test_every_change_of_an_approval_reaches_its_people_live_and_nobody_else(app, team, ask, resumed):
    runtime = app.extensions["runtime"]
    clients = {
        name: await SseClient(getattr(team, name), {"kinds": "approval"}).start()
        for name in ("ada", "bob", "cara", "dan", "olga")
    }
    try:
        quorum = await ask(key="quorum", title="Refund 120 euros", mode="quorum", quorum=2)
        assert (await team.bob.post(f"{INBOX}/{quorum.id}/approve", json={})).status_code == 200
        # cara's inbox learns that one approval of two is in, and the asker hears it too
        for name in ("cara", "ada"):
            counted = await _heard(clients[name], quorum, "approval_updated")
            assert (counted["status"], counted["approvals"], counted["required"]) == ("pending", 1, 2)
        assert (await team.cara.post(f"{INBOX}/{quorum.id}/approve", json={})).status_code == 200
        assert (await _heard(clients["bob"], quorum, "approval_decided"))["status"] == "approved"

        late = await ask(key="late", title="Refund 80 euros")
        await Approval.filter(id=late.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        await expire_overdue(runtime)  # or the worker's own sweep, if one runs in this session: it is heard the same
        assert (await _heard(clients["cara"], late, "approval_decided"))["status"] == "expired"

        voided = await ask(key="void", title="Refund 40 euros")
        assert await void_for_subject("workflow_step", voided.subject_id, runtime) == 1
        assert (await _heard(clients["bob"], voided, "approval_decided"))["status"] == "expired"
        await _heard(clients["ada"], voided, "approval_decided")

        # dan is of the org but no approver, olga of another org: neither heard anything of the three. The org's
        # events reach each client in order, so once dan hears of one for him, he has been sent all before it.
        for_dan = await ask(key="dan", title="Order paper", approvers={"users": [team.dan.user_id]})
        await _heard(clients["dan"], for_dan, "approval_requested")
        assert [e["data"]["approval_id"] for e in clients["dan"].events] == [str(for_dan.id)]
        assert clients["olga"].events == []
    finally:
        for client in clients.values():
            await client.stop()

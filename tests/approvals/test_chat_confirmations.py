"""A chat tool confirmation in the shared inbox, through a real worker process: two clicks at once
resume the task once and the tool runs once."""

from __future__ import annotations

import asyncio

from tests.approvals.conftest import INBOX
from tests.chat.helpers import ask, bring_own_model, follow, wait_status
from tests.chat.test_model_chat import confirm_responder


async def test_two_clicks_at_once_on_a_confirmation_run_the_tool_once(signup, worker, fake_model, hook_server):
    hook_server.reset()
    fake_model.responder = confirm_responder(hook_server.url)
    ada = await signup()
    await bring_own_model(ada, fake_model.base_url)
    started = await ask(ada, "Open a ticket: the printer is on fire", mode="ask")
    await wait_status(ada, started["task_id"], ("awaiting_approval",))
    [approval] = await (await ada.get(f"{INBOX}/pending", query_string={"kind": "tool_call"})).get_json()
    assert approval["kind"] == "tool_call" and approval["subject_id"] == started["task_id"]
    assert approval["link"] == f"/chat?c={started['conversation_id']}"

    clicks = await asyncio.gather(*(ada.post(f"{INBOX}/{approval['id']}/approve", json={}) for _ in range(2)))
    assert sorted(c.status_code for c in clicks) == [200, 409]
    task = await wait_status(ada, started["task_id"], ("completed", "error"))
    assert task["status"] == "completed"
    assert len(hook_server.calls) == 1, "the approved call ran exactly once"
    events = [e["event"] for e in await follow(ada, started["task_id"])]
    assert events.count("approval_resolved") == 1, "the task was resumed once"
    assert await (await ada.get(f"{INBOX}/pending")).get_json() == []
    history = await (await ada.get(f"{INBOX}/history")).get_json()
    assert [(a["id"], a["status"]) for a in history["items"]] == [(approval["id"], "approved")]

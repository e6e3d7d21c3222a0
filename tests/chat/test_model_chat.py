"""Chat through a real worker process and an OpenAI-compatible model (the fake server): research, resume,
confirmations (approve, reject, time out)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.agents.models import ModelSettings
from switchboard.approvals import Approval
from switchboard.chat.models import ChatTask
from switchboard.platform.crypto import SecretBox
from tests.chat.helpers import ask, bring_own_model, follow, wait_status
from tests.fakes.openai_server import Turn
from tests.ingestion.test_documents import wait_processed
from tests.support.accounts import upload

POLICY = b"# Travel\n\nThe daily meal allowance is 45 euros.\n\n## Hotels\n\nHotels may cost 160 euros a night.\n"


def _last_user(body: dict[str, Any]) -> str:
    users = [m for m in body["messages"] if m["role"] == "user"]
    return str(users[-1]["content"]) if users else ""


def research_responder(body: dict[str, Any]) -> Turn:
    """Plays the model for research: a plan, a search per step, a finding, then the synthesis."""
    last = body["messages"][-1]
    question = _last_user(body)
    if "Break the question" in question:
        return Turn.reply(json.dumps(["What is the meal allowance?", "What may a hotel cost?"]))
    if "Findings:" in question:
        return Turn.reply("Meals: 45 euros a day [1]. ", "Hotels: up to 160 euros a night [2].")
    if last["role"] == "tool":
        return Turn.reply(f"Found it for: {question}")
    return Turn.call("search_documents", {"query": question, "top_k": 3})


async def test_research_task_streams_in_order_and_resumes_exactly(signup, worker, fake_model):
    fake_model.responder = research_responder
    ada = await signup()
    await bring_own_model(ada, fake_model.base_url)
    document = await (await upload(ada, "travel.md", POLICY)).get_json()
    await wait_processed(ada, document["id"])
    started = await ask(ada, "Tell me the meal allowance and the hotel limit", mode="research")
    everything = await follow(ada, started["task_id"])
    kinds = [e["event"] for e in everything]
    assert kinds[:2] == ["queued", "task_started"] and kinds[-1] == "complete"
    plan_at = kinds.index("plan_created")
    assert kinds.count("tool_started") == 2 and kinds.count("agent_completed") >= 3
    assert plan_at < kinds.index("tool_started") < kinds.index("text_delta") < kinds.index("citation")
    assert [e["id"] for e in everything] == sorted(e["id"] for e in everything), "ids only grow"
    result = await (await ada.get(f"/api/v1/chat/{started['task_id']}/result")).get_json()
    assert result["response"] == "Meals: 45 euros a day [1]. Hotels: up to 160 euros a night [2]."
    assert {c["document_name"] for c in result["citations"]} == {"travel.md"}
    # a client that dropped after k events and came back gets exactly the rest
    for k in (1, 5, len(everything) - 1):
        rest = await follow(ada, started["task_id"], last_id=everything[k - 1]["id"])
        assert [e["id"] for e in rest] == [e["id"] for e in everything[k:]]
    state = await (await ada.get(f"/api/v1/chat/{started['task_id']}/progress/state")).get_json()
    assert [e["event_id"] for e in state["events"]] == [e["id"] for e in everything]
    # the model only ever saw tools the user may use, and the synthesis saw the findings
    sent_tools = {t["function"]["name"] for r in fake_model.chat_requests() for t in r.get("tools", [])}
    assert "search_documents" in sent_tools


def confirm_responder(url: str):  # type: ignore[no-untyped-def]
    def respond(body: dict[str, Any]) -> Turn:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return Turn.reply(f"Tool said: {last['content'][:60]}")
        return Turn.call("http_post", {"url": url, "json_body": {"ticket": "printer on fire"}})

    return respond


async def _start_confirm_task(signup, fake_model, hook):
    hook.reset()
    fake_model.responder = confirm_responder(hook.url)
    ada = await signup()
    await bring_own_model(ada, fake_model.base_url)
    started = await ask(ada, "Open a ticket: the printer is on fire", mode="ask")
    await wait_status(ada, started["task_id"], ("awaiting_approval",))
    pending = await (await ada.get("/api/v1/approvals/pending")).get_json()
    assert len(pending) == 1 and pending[0]["tool"] == "http_post"
    assert pending[0]["arguments"]["json_body"] == {"ticket": "printer on fire"}
    assert hook.calls == [], "a confirm tool does not run before a person approves"
    return ada, started, pending[0], hook


async def test_approved_call_runs_once_and_the_task_completes(signup, worker, fake_model, hook_server):
    ada, started, approval, hook = await _start_confirm_task(signup, fake_model, hook_server)
    approved = await ada.post(f"/api/v1/approvals/{approval['id']}/approve", json={})
    assert approved.status_code == 200
    assert (await ada.post(f"/api/v1/approvals/{approval['id']}/approve", json={})).status_code == 409
    task = await wait_status(ada, started["task_id"], ("completed", "error"))
    assert task["status"] == "completed"
    assert len(hook.calls) == 1, "the approved call ran exactly once"
    events = [e["event"] for e in await follow(ada, started["task_id"])]
    assert events.index("approval_required") < events.index("approval_resolved") < events.index("complete")
    result = await (await ada.get(f"/api/v1/chat/{started['task_id']}/result")).get_json()
    assert result["response"].startswith("Tool said:")


async def test_an_approval_decided_while_the_paused_job_lets_go_still_resumes_the_task(
    signup, worker, fake_model, hook_server
):
    ada, started, approval, hook = await _start_confirm_task(signup, fake_model, hook_server)
    # the job that asked for the approval has not let go of the task yet (another process's job)
    await ChatTask.filter(id=started["task_id"]).update(
        lease_owner="the-job-that-paused", lease_until=datetime.now(UTC) + timedelta(seconds=30)
    )
    assert (await ada.post(f"/api/v1/approvals/{approval['id']}/approve", json={})).status_code == 200
    await asyncio.sleep(0.8)
    assert hook.calls == [], "the task does not run beside the job that holds it"
    await ChatTask.filter(id=started["task_id"]).update(lease_owner=None, lease_until=None)
    task = await wait_status(ada, started["task_id"], ("completed", "error"), timeout=20)
    assert task["status"] == "completed" and len(hook.calls) == 1


async def test_rejected_call_never_runs(signup, worker, fake_model, hook_server):
    ada, started, approval, hook = await _start_confirm_task(signup, fake_model, hook_server)
    assert (await ada.post(f"/api/v1/approvals/{approval['id']}/reject", json={})).status_code == 200
    task = await wait_status(ada, started["task_id"], ("completed", "error"))
    assert task["status"] == "completed" and hook.calls == []
    told = [m for r in fake_model.chat_requests() for m in r["messages"] if m["role"] == "tool"]
    assert "did not approve" in told[-1]["content"], "the model is told the user refused"


async def test_unanswered_approval_times_out_as_a_refusal(signup, worker, fake_model, hook_server):
    ada, started, approval, hook = await _start_confirm_task(signup, fake_model, hook_server)
    await Approval.filter(id=approval["id"]).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    # the worker's watchdog expires it within its 10-second cadence
    task = await wait_status(ada, started["task_id"], ("completed", "error"), timeout=30)
    assert task["status"] == "completed" and hook.calls == []
    assert (await Approval.get(id=approval["id"])).status == "expired"
    late = await ada.post(f"/api/v1/approvals/{approval['id']}/approve", json={})
    assert late.status_code == 409


async def test_the_model_picks_what_to_remember(fake_model):
    from switchboard.agents.providers.openai_compat import OpenAIChatModel
    from switchboard.chat.memory import extract_memories

    def respond(body: dict[str, Any]) -> Turn:
        assert _last_user(body).startswith("From the user's message below")
        return Turn.reply(
            json.dumps(
                [
                    {"category": "facts", "content": "Works night shifts", "importance": 0.8},
                    {"category": "nonsense", "content": "Likes tea"},
                    {"content": ""},
                ]
            )
        )

    fake_model.responder = respond
    async with OpenAIChatModel(base_url=fake_model.base_url, api_key="sk-test", model="fake-model") as model:
        kept = await extract_memories(model, "I work night shifts, so schedule things late.")
    assert kept == [("facts", "Works night shifts", 0.8), ("memories", "Likes tea", 0.5)]


async def test_memory_agent_recalls_without_asking_and_keeps_facts_only_when_approved(signup, worker, fake_model):
    def respond(body: dict[str, Any]) -> Turn:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return Turn.reply(f"Done: {last['content'][:80]}")
        question = _last_user(body)
        if question.startswith("From the user's message below"):
            return Turn.reply("[]")
        if "remember" in question:
            return Turn.call("remember_fact", {"content": "Prefers tea", "category": "preferences"})
        return Turn.call("recall_memories", {"query": "drinks"})

    fake_model.responder = respond
    ada = await signup()
    await bring_own_model(ada, fake_model.base_url)
    await ada.post("/api/v1/memories", json={"content": "Drinks coffee black", "category": "preferences"})
    recalled = await ask(ada, "What do I drink?", mode="ask")
    await wait_status(ada, recalled["task_id"], ("completed",))
    result = await (await ada.get(f"/api/v1/chat/{recalled['task_id']}/result")).get_json()
    assert "Drinks coffee black" in result["response"], "recall is a read tool: it runs at once"
    kept = await ask(ada, "Please remember that I prefer tea", mode="ask")
    await wait_status(ada, kept["task_id"], ("awaiting_approval",))
    pending = await (await ada.get("/api/v1/approvals/pending")).get_json()
    assert [p["tool"] for p in pending] == ["remember_fact"]
    await ada.post(f"/api/v1/approvals/{pending[0]['id']}/approve", json={})
    await wait_status(ada, kept["task_id"], ("completed",))
    contents = [m["content"] for m in (await (await ada.get("/api/v1/memories")).get_json())["items"]]
    assert "Prefers tea" in contents


async def test_a_model_key_stored_under_a_former_secret_key_ends_the_chat_with_a_clear_error(
    signup, worker, fake_model
):
    ada = await signup()
    await bring_own_model(ada, fake_model.base_url)
    # as if SECRET_KEY changed and the old one is not in SECRET_KEY_PREVIOUS
    await ModelSettings.filter(user_id=ada.user_id).update(
        api_key_encrypted=SecretBox("a-former-secret-key-0123456789").encrypt("sk-test")
    )
    started = await ask(ada, "What is the meal allowance?", mode="ask")
    events = await follow(ada, started["task_id"])
    assert events[-1]["event"] == "error"
    message = events[-1]["data"]["message"]
    assert "model API key can no longer be read" in message and "SECRET_KEY" in message
    assert "enter the key again" in message.lower()
    await wait_status(ada, started["task_id"], ("error",))
    assert fake_model.requests == []  # nothing was sent with a key that is not the user's

    settings = await (await ada.get("/api/v1/settings/models")).get_json()
    assert settings["has_api_key"] and "enter the key again" in settings["api_key_problem"].lower()
    # entering it again clears the problem
    await bring_own_model(ada, fake_model.base_url)
    settings = await (await ada.get("/api/v1/settings/models")).get_json()
    assert settings["api_key_problem"] is None


async def test_stop_mid_answer_ends_the_task_cancelled_with_what_was_written(signup, worker, fake_model):
    """Stop while the model is still writing: the task ends `cancelled`, the answer so far is kept, the rest
    is never written, and the next question is taken."""
    words = [f"word{i} " for i in range(400)]
    fake_model.responder = lambda body: Turn(text=tuple(words), delay=0.05)  # twenty seconds, unless stopped
    ada = await signup()
    await bring_own_model(ada, fake_model.base_url)
    started = await ask(ada, "Write something long", mode="ask")
    task_id = started["task_id"]
    deadline = asyncio.get_running_loop().time() + 30
    while True:  # until the first words are in
        state = await (await ada.get(f"/api/v1/chat/{task_id}/progress/state")).get_json()
        if any(e["update_type"] == "text_delta" for e in state["events"]):
            break
        assert asyncio.get_running_loop().time() < deadline, "no words came"
        await asyncio.sleep(0.1)
    stopped = await ada.post(f"/api/v1/chat/{task_id}/cancel")
    assert stopped.status_code == 200
    ended = await wait_status(ada, task_id, ("cancelled", "completed", "error"))
    assert ended["status"] == "cancelled"
    stored = await ChatTask.get(id=task_id)
    assert stored.response and "".join(words).startswith(stored.response) and len(stored.response) < len("".join(words))
    events = [e["event"] for e in await follow(ada, task_id)]
    assert events[-1] == "cancelled" and "complete" not in events
    fake_model.responder = lambda body: Turn.reply("Short ", "answer.")
    following = await ask(ada, "next", mode="ask")
    assert (await wait_status(ada, following["task_id"], ("completed",)))["status"] == "completed"


async def test_a_cancel_announced_wakes_the_job_running_that_task_only(app):
    """The announcement reaches the job watching that task (the flag is still read every few seconds)."""
    from switchboard.chat import cancels

    runtime = app.extensions["runtime"]
    watch = cancels.CancelWatch(runtime)
    try:
        with watch.watching("task-a") as a, watch.watching("task-b") as b:
            deadline = asyncio.get_running_loop().time() + 10
            while not a.is_set():  # announced again until its subscriber, started by the first watch, is in
                assert asyncio.get_running_loop().time() < deadline, "the announcement never arrived"
                await cancels.announce(runtime, "task-a")
                await asyncio.sleep(0.05)
            assert not b.is_set()  # another task's job is not woken
    finally:
        await watch.close()

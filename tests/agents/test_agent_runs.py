"""Direct agent runs: one agent on an instruction with the caller's permissions, its runs listed with their steps;
a tool that needs confirmation parks the run in the approvals inbox; denied agents and other people's runs are 404."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.chat.helpers import bring_own_model
from tests.fakes.openai_server import Turn
from tests.ingestion.test_documents import wait_processed
from tests.support.accounts import join_org, upload

HANDBOOK = b"# Expense policy\n\n## Meals\n\nThe daily meal allowance when travelling is 45 euros per person.\n"


async def _run(account, agent: str, instruction: str) -> dict[str, Any]:
    started = await account.post(f"/api/v1/agents/{agent}/run", json={"instruction": instruction})
    assert started.status_code == 202, await started.get_data(as_text=True)
    return await started.get_json()


async def _wait_run(account, agent: str, run_id: str, statuses: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = await (await account.get(f"/api/v1/agents/{agent}/runs/{run_id}")).get_json()
        if run["status"] in statuses:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} is {run['status']}, not {statuses}, after {timeout}s")


async def test_a_run_uses_only_its_agent_is_listed_with_its_steps_and_is_private(signup, worker):
    ada = await signup()
    document = await (await upload(ada, "expense-policy.md", HANDBOOK)).get_json()
    assert (await wait_processed(ada, document["id"]))["status"] == "completed"

    # no model configured: the offline responder searches with the knowledge agent's tool
    started = await _run(ada, "knowledge", "What is the daily meal allowance?")
    assert started["agent"] == "knowledge" and started["status"] == "queued"
    run = await _wait_run(ada, "knowledge", started["run_id"], ("completed", "error"))
    assert run["status"] == "completed", run
    assert "45 euros" in run["response"] and run["citations"][0]["document_name"] == "expense-policy.md"
    steps = [(s["type"], s.get("tool")) for s in run["steps"]]
    assert ("tool_started", "search_documents") in steps and ("tool_completed", "search_documents") in steps
    assert run["steps"][0]["type"] == "task_started"

    listed = await (await ada.get("/api/v1/agents/knowledge/runs")).get_json()
    assert listed["total"] == 1 and listed["items"][0]["run_id"] == started["run_id"]
    assert listed["items"][0]["steps"] == run["steps"]
    assert (await (await ada.get("/api/v1/agents/calculator/runs")).get_json())["items"] == []
    # an agent run is not a chat: no conversation in the chat list, nothing to recover on the chat page
    assert (await (await ada.get("/api/v1/conversations")).get_json())["items"] == []
    assert (await (await ada.get("/api/v1/chat/active")).get_json())["task"] is None

    # also as a job: kind agent_run
    job = await ada.post(
        "/api/v1/jobs", json={"kind": "agent_run", "input": {"agent": "calculator", "instruction": "What is 6 * 7?"}}
    )
    assert job.status_code == 202, await job.get_data(as_text=True)
    job_id = (await job.get_json())["job_id"]
    assert job_id.startswith("agent-") and (await job.get_json())["kind"] == "agent_run"
    await _wait_run(ada, "calculator", job_id.removeprefix("agent-"), ("completed",))
    jobs = await (await ada.get("/api/v1/jobs")).get_json()
    assert {j["job_id"]: j["kind"] for j in jobs}[f"agent-{started['run_id']}"] == "agent_run"

    # another person of the same org sees none of it
    bob = await signup()
    await join_org(ada, bob)
    assert (await bob.get(f"/api/v1/agents/knowledge/runs/{started['run_id']}")).status_code == 404
    assert (await (await bob.get("/api/v1/agents/knowledge/runs")).get_json())["items"] == []
    assert (await bob.get(f"/api/v1/jobs/{job_id}")).status_code == 404

    # an agent the caller may not use is not found, like GET /agents/{name}
    denied = await ada.put(f"/api/v1/admin/agents/orgs/{ada.org_id}/agents/calculator", json={"access": "deny"})
    assert denied.status_code == 200, await denied.get_data(as_text=True)
    refused = await bob.post("/api/v1/agents/calculator/run", json={"instruction": "What is 1 + 1?"})
    assert refused.status_code == 404 and (await refused.get_json())["error"] == "agent_not_found"
    assert (await bob.get("/api/v1/agents/calculator/runs")).status_code == 404
    assert (await ada.get(f"/api/v1/agents/calculator/runs/{job_id.removeprefix('agent-')}")).status_code == 404
    assert (await ada.post("/api/v1/agents/no_such_agent/run", json={"instruction": "hi"})).status_code == 404
    empty = await ada.post("/api/v1/agents/knowledge/run", json={"instruction": ""})
    assert empty.status_code in (400, 422)


async def test_a_tool_needing_confirmation_waits_in_the_inbox_then_completes(signup, worker, fake_model):
    def respond(body: dict[str, Any]) -> Turn:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return Turn.reply(f"Done: {last['content'][:80]}")
        return Turn.call("remember_fact", {"content": "Prefers tea", "category": "preferences"})

    fake_model.responder = respond
    ada = await signup()
    await bring_own_model(ada, fake_model.base_url, "sk-t")

    started = await _run(ada, "memory", "Remember that I prefer tea")
    await _wait_run(ada, "memory", started["run_id"], ("awaiting_approval",))
    pending = await (await ada.get("/api/v1/approvals/pending")).get_json()
    assert [p["tool"] for p in pending] == ["remember_fact"]
    assert (await (await ada.get("/api/v1/memories")).get_json())["items"] == [], "nothing kept before approval"

    assert (await ada.post(f"/api/v1/approvals/{pending[0]['id']}/approve", json={})).status_code == 200
    run = await _wait_run(ada, "memory", started["run_id"], ("completed", "error"))
    assert run["status"] == "completed" and run["response"].startswith("Done:"), run
    steps = [(s["type"], s.get("tool")) for s in run["steps"]]
    asked = steps.index(("approval_required", "remember_fact"))
    assert asked < steps.index(("tool_started", "remember_fact")) < steps.index(("tool_completed", "remember_fact"))
    contents = [m["content"] for m in (await (await ada.get("/api/v1/memories")).get_json())["items"]]
    assert contents == ["Prefers tea"]
    # the model was offered the memory agent's tools only
    offered = {t["function"]["name"] for r in fake_model.chat_requests() for t in r.get("tools", [])}
    assert offered and "remember_fact" in offered and "search_documents" not in offered and "calculate" not in offered

"""Runs through the API and a real worker: the event stream, retries, loops, delays, cancel, limits, isolation."""

from __future__ import annotations

from typing import Any

from tests.chat.helpers import parse_sse
from tests.support.accounts import Account
from tests.workflows.conftest import WORKFLOWS, run_workflow, steps_by_node, wait_run


def _trigger() -> dict[str, Any]:
    return {"id": "start", "type": "trigger", "config": {"kind": "manual"}}


def _count(node_id: str, label: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "tool",
        "config": {"agent": "counter", "tool": "count_call", "arguments": {"label": label, **extra}},
    }


async def test_the_event_stream_tells_each_step_and_ends_with_the_run(
    admin: Account, create_workflow, worker, tool_calls
) -> None:
    workflow = await create_workflow(
        {"name": "Two", "nodes": [_trigger(), _count("one", "one")], "edges": [{"from": "start", "to": "one"}]}
    )
    run_id = await run_workflow(admin, workflow["id"], {"x": 1})
    response = await admin.get(f"{WORKFLOWS}/{workflow['id']}/executions/{run_id}/events")
    assert response.status_code == 200
    events = parse_sse(await response.get_data(as_text=True))
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "completed"
    assert [e["data"]["node_id"] for e in events if e["event"] == "step_completed"] == ["start", "one"]
    # resuming after an event gives exactly what came after it
    middle = events[1]["id"]
    again = await admin.get(
        f"{WORKFLOWS}/{workflow['id']}/executions/{run_id}/events", headers={"Last-Event-ID": middle}
    )
    assert [e["id"] for e in parse_sse(await again.get_data(as_text=True))] == [e["id"] for e in events[2:]]


async def test_a_flaky_step_is_retried_with_the_same_idempotency_key(
    admin: Account, create_workflow, worker, tool_calls
) -> None:
    flaky = _count("flaky", "flaky", fail_times=2)
    flaky["retry"] = {"attempts": 3, "delay_seconds": 0.1, "backoff": 2, "jitter": 0}
    workflow = await create_workflow(
        {"name": "Flaky", "nodes": [_trigger(), flaky], "edges": [{"from": "start", "to": "flaky"}]}
    )
    run_id = await run_workflow(admin, workflow["id"])
    detail = await wait_run(admin, workflow["id"], run_id)
    step = steps_by_node(detail)["flaky"]
    assert detail["status"] == "completed" and step["attempt"] == 3
    assert [a["status"] for a in step["attempts"]] == ["failed", "failed", "completed"]
    assert step["attempts"][0]["error"]["code"] == "flaky"
    assert [label for label, _ in tool_calls()] == ["flaky"]


async def test_a_step_out_of_tries_fails_the_run(admin: Account, create_workflow, worker, tool_calls) -> None:
    workflow = await create_workflow(
        {
            "name": "Failing",
            "nodes": [_trigger(), _count("bad", "bad", fail_times=5), _count("after", "after")],
            "edges": [{"from": "start", "to": "bad"}, {"from": "bad", "to": "after"}],
        }
    )
    run_id = await run_workflow(admin, workflow["id"])
    detail = await wait_run(admin, workflow["id"], run_id)
    steps = steps_by_node(detail)
    assert detail["status"] == "failed" and detail["error"]["code"] == "flaky"
    assert steps["bad"]["status"] == "failed" and steps["after"]["status"] == "skipped"
    assert tool_calls() == []


async def test_a_loop_maps_its_steps_over_the_items(admin: Account, create_workflow, worker, tool_calls) -> None:
    loop = {
        "id": "each",
        "type": "loop",
        "config": {
            "items": "{{ input.names }}",
            "concurrency": 2,
            "steps": [_count("greet", "hello {{ item }} #{{ index }}")],
        },
    }
    workflow = await create_workflow(
        {"name": "Loop", "nodes": [_trigger(), loop], "edges": [{"from": "start", "to": "each"}]}
    )
    run_id = await run_workflow(admin, workflow["id"], {"names": ["ann", "bo", "cy"]})
    detail = await wait_run(admin, workflow["id"], run_id)
    assert detail["status"] == "completed"
    assert [o["label"] for o in steps_by_node(detail)["each"]["output"]] == [
        "hello ann #0",
        "hello bo #1",
        "hello cy #2",
    ]
    assert sorted(label for label, _ in tool_calls()) == ["hello ann #0", "hello bo #1", "hello cy #2"]
    assert sorted(s["iteration"] for s in detail["steps"] if s["node_id"] == "each.greet") == [0, 1, 2]


async def test_a_waiting_run_is_cancelled_and_a_second_start_over_the_limit_is_429(
    admin: Account, outsider: Account, create_workflow, worker, tool_calls
) -> None:
    workflow = await create_workflow(
        {
            "name": "Slow",
            "nodes": [_trigger(), {"id": "wait", "type": "delay", "config": {"seconds": 600}}, _count("late", "late")],
            "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "late"}],
            "settings": {"max_concurrent_runs": 1},
        }
    )
    run_id = await run_workflow(admin, workflow["id"])
    waiting = await wait_run(admin, workflow["id"], run_id, ("running",))
    assert waiting["status"] == "running"
    refused = await admin.post(f"{WORKFLOWS}/{workflow['id']}/run", json={"input": None})
    assert refused.status_code == 429 and (await refused.get_json())["error"] == "too_many_runs"
    assert refused.headers["Retry-After"]

    path = f"{WORKFLOWS}/{workflow['id']}/executions/{run_id}"
    assert (await outsider.get(path)).status_code == 404
    assert (await outsider.post(f"{path}/cancel")).status_code == 404
    cancelled = await admin.post(f"{path}/cancel")
    assert cancelled.status_code == 200
    detail = await wait_run(admin, workflow["id"], run_id)
    steps = steps_by_node(detail)
    assert detail["status"] == "cancelled" and steps["late"]["status"] == "skipped"
    assert (await admin.post(f"{path}/cancel")).status_code == 409
    assert tool_calls() == []
    # the slot is free again
    assert (await admin.post(f"{WORKFLOWS}/{workflow['id']}/run", json={"input": None})).status_code == 202


async def test_the_same_idempotency_key_starts_one_run(admin: Account, create_workflow, worker, tool_calls) -> None:
    workflow = await create_workflow()
    headers = {"Idempotency-Key": "start-once"}
    first = await run_workflow(admin, workflow["id"], {"a": 2}, headers=headers)
    second = await run_workflow(admin, workflow["id"], {"a": 2}, headers=headers)
    assert first == second
    listed = await (await admin.get(f"{WORKFLOWS}/{workflow['id']}/executions")).get_json()
    assert listed["total"] == 1


ADMIN = "/api/v1/admin/agents"


async def test_a_run_acts_with_its_starters_permissions_at_step_time(
    admin: Account, member: Account, create_workflow, worker, tool_calls
) -> None:
    workflow = await create_workflow(
        {"name": "Count", "nodes": [_trigger(), _count("one", "one")], "edges": [{"from": "start", "to": "one"}]}
    )
    denied = await admin.put(f"{ADMIN}/users/{member.user_id}/agents/counter", json={"access": "deny"})
    assert denied.status_code == 200, await denied.get_data(as_text=True)
    run_id = await run_workflow(member, workflow["id"])
    detail = await wait_run(member, workflow["id"], run_id)
    assert detail["status"] == "failed" and detail["error"]["code"] == "tool_denied"
    assert detail["acting_user_id"] == member.user_id and tool_calls() == []
    # the admin's own run of the same workflow is allowed
    ok = await wait_run(admin, workflow["id"], await run_workflow(admin, workflow["id"]))
    assert ok["status"] == "completed" and [label for label, _ in tool_calls()] == ["one"]


async def test_a_tool_needing_confirmation_parks_the_run_for_its_starter(
    admin: Account, create_workflow, worker, tool_calls
) -> None:
    workflow = await create_workflow(
        {"name": "Confirm", "nodes": [_trigger(), _count("one", "one")], "edges": [{"from": "start", "to": "one"}]}
    )
    confirm = await admin.put(f"{ADMIN}/orgs/{admin.org_id}/agents/counter", json={"confirm": {"count_call": True}})
    assert confirm.status_code == 200, await confirm.get_data(as_text=True)
    run_id = await run_workflow(admin, workflow["id"])
    parked = await wait_run(admin, workflow["id"], run_id, ("awaiting_approval", "completed", "failed"))
    step = steps_by_node(parked)["one"]
    assert parked["status"] == "awaiting_approval" and step["waiting_for"] == "confirmation"
    assert tool_calls() == []
    approved = await admin.post(f"/api/v1/approvals/{step['approval_id']}/approve", json={})
    assert approved.status_code == 200, await approved.get_data(as_text=True)
    detail = await wait_run(admin, workflow["id"], run_id)
    assert detail["status"] == "completed" and [label for label, _ in tool_calls()] == ["one"]


async def test_a_subworkflow_step_waits_for_its_child_run_and_takes_its_output(
    admin: Account, create_workflow, worker, tool_calls
) -> None:
    child = await create_workflow(
        {
            "name": "Child",
            "nodes": [
                _trigger(),
                {"id": "pause", "type": "delay", "config": {"seconds": 1}},
                _count("c", "child {{ input.v }}"),
            ],
            "edges": [{"from": "start", "to": "pause"}, {"from": "pause", "to": "c"}],
        }
    )
    parent = await create_workflow(
        {
            "name": "Parent",
            "nodes": [
                _trigger(),
                {
                    "id": "sub",
                    "type": "subworkflow",
                    "config": {"workflow_id": child["id"], "version": 1, "input": {"v": "{{ input.v }}"}},
                },
                _count("after", "after {{ nodes.sub.output.c.label }}"),
            ],
            "edges": [{"from": "start", "to": "sub"}, {"from": "sub", "to": "after"}],
        }
    )
    run_id = await run_workflow(admin, parent["id"], {"v": 7})
    detail = await wait_run(admin, parent["id"], run_id)
    assert detail["status"] == "completed", detail
    assert [label for label, _ in tool_calls()] == ["child 7", "after child 7"]
    sub = steps_by_node(detail)["sub"]
    child_run = await wait_run(admin, child["id"], sub["child_run_id"])
    assert child_run["status"] == "completed" and child_run["trigger"] == "subworkflow"
    assert steps_by_node(child_run)["pause"]["status"] == "completed"

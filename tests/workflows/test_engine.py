"""The engine through a real worker process: steps run once, in order, branches that are not taken never run."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.accounts import Account
from tests.workflows.conftest import WORKFLOWS, run_workflow, steps_by_node, wait_run


def count(node_id: str, label: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "tool",
        "config": {"agent": "counter", "tool": "count_call", "arguments": {"label": label, **extra}},
    }


def branching_definition() -> dict[str, Any]:
    """Three branches from the trigger into an all-merge: two counted tools, and a condition whose false side
    (two steps) is skipped."""
    return {
        "name": "Branches",
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            count("left", "left {{ input.n }}"),
            count("right", "right"),
            {
                "id": "calc",
                "type": "tool",
                "config": {
                    "agent": "calculator",
                    "tool": "calculate",
                    "arguments": {"expression": "{{ input.n }} * 7"},
                },
            },
            {
                "id": "big",
                "type": "condition",
                "config": {"conditions": [{"left": "{{ nodes.calc.output.result }}", "op": "gt", "right": 20}]},
            },
            count("yes", "big"),
            count("no", "small"),
            count("after_no", "after small"),
            {"id": "join", "type": "merge", "config": {"mode": "all"}},
            {
                "id": "shape",
                "type": "transform",
                "config": {
                    "value": {"left": "{{ nodes.left.output.label }}", "sum": "{{ nodes.calc.output.result + 1 }}"}
                },
            },
        ],
        "edges": [
            {"from": "start", "to": "left"},
            {"from": "start", "to": "right"},
            {"from": "start", "to": "calc"},
            {"from": "calc", "to": "big"},
            {"from": "big", "to": "yes", "when": "true"},
            {"from": "big", "to": "no", "when": "false"},
            {"from": "no", "to": "after_no"},
            {"from": "left", "to": "join"},
            {"from": "right", "to": "join"},
            {"from": "yes", "to": "join"},
            {"from": "after_no", "to": "join"},
            {"from": "join", "to": "shape"},
        ],
    }


async def test_a_branching_run_runs_each_taken_step_once_and_never_the_other_branch(
    admin: Account, create_workflow, worker, tool_calls
) -> None:
    definition = branching_definition()
    workflow = await create_workflow(definition)
    run_id = await run_workflow(admin, workflow["id"], {"n": 4})
    detail = await wait_run(admin, workflow["id"], run_id)
    assert detail["status"] == "completed", detail
    steps = steps_by_node(detail)
    assert steps["big"]["branch"] == "true" and steps["big"]["condition_result"] is True
    assert steps["no"]["status"] == "skipped" and steps["after_no"]["status"] == "skipped"
    assert {n: s["status"] for n, s in steps.items() if n not in ("no", "after_no")} == dict.fromkeys(
        ["start", "left", "right", "calc", "big", "yes", "join", "shape"], "completed"
    )
    assert steps["shape"]["output"] == {"left": "left 4", "sum": 29}
    assert detail["output"] == {"shape": {"left": "left 4", "sum": 29}}
    assert sorted(label for label, _ in tool_calls()) == ["big", "left 4", "right"]
    keys = [key for _, key in tool_calls()]
    assert len(set(keys)) == 3 and all(key.startswith("wfstep_") for key in keys)
    assert steps["calc"]["tools_used"] == ["calculate"] and steps["calc"]["agent"] == "calculator"
    for step in steps.values():
        if step["status"] == "completed":
            assert len(step["attempts"]) == 1 and step["attempts"][0]["started_at"] and step["queued_at"]

    timeline = await (await admin.get(f"{WORKFLOWS}/{workflow['id']}/executions/{run_id}/timeline")).get_json()
    assert {s["node_id"] for s in timeline["steps"]} >= {"start", "left", "join", "shape"}
    listed = await (await admin.get(f"{WORKFLOWS}/{workflow['id']}/executions?status=completed")).get_json()
    assert [r["id"] for r in listed["items"]] == [run_id] and listed["total"] == 1


async def test_branches_of_many_runs_ending_at_once_run_each_step_once(
    admin: Account, create_workflow, worker, tool_calls
) -> None:
    """Parallel branches settle into one merge while a skipped branch reaches it too: every run completes at
    once, each counted step once (a deadlock between two branches' settling re-ran a step after its lease)."""
    runs = 12
    workflow = await create_workflow({**branching_definition(), "settings": {"max_concurrent_runs": runs}})
    run_ids = await asyncio.gather(*(run_workflow(admin, workflow["id"], {"n": 4}) for _ in range(runs)))
    details = await asyncio.gather(*(wait_run(admin, workflow["id"], run_id, timeout=30) for run_id in run_ids))
    assert [d["status"] for d in details] == ["completed"] * runs
    calls = tool_calls()
    assert sorted(label for label, _ in calls) == sorted(["big", "left 4", "right"] * runs)
    assert len({key for _, key in calls}) == 3 * runs, "no step's effect happened twice"

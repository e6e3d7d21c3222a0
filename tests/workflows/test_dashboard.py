"""The flows dashboard: latest runs, metrics per org and per workflow, a run's log in pages, monthly usage."""

from __future__ import annotations

from typing import Any

from tests.workflows.conftest import WORKFLOWS, run_workflow, wait_run

DIVIDE = {"expression": "1/0"}


def three_steps(name: str, fail: bool = False) -> dict[str, Any]:
    second = (
        {"id": "boom", "type": "tool", "config": {"agent": "calculator", "tool": "calculate", "arguments": DIVIDE}}
        if fail
        else {"id": "double", "type": "transform", "config": {"value": {"twice": "{{ input.n * 2 }}"}}}
    )  # fmt: skip
    return {
        "name": name,
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {"id": "note", "type": "transform", "config": {"value": {"n": "{{ input.n }}"}}},
            second,
        ],
        "edges": [{"from": "start", "to": "note"}, {"from": "note", "to": second["id"]}],
    }


async def test_latest_runs_metrics_logs_and_usage(admin, outsider, create_workflow, worker):
    good = await create_workflow(three_steps("Doubles"))
    bad = await create_workflow(three_steps("Divides by zero", fail=True))
    runs = []
    for n in range(3):
        run_id = await run_workflow(admin, good["id"], {"n": n})
        runs.append((good["id"], run_id, await wait_run(admin, good["id"], run_id)))
    run_id = await run_workflow(admin, bad["id"], {"n": 1})
    runs.append((bad["id"], run_id, await wait_run(admin, bad["id"], run_id)))
    assert [r[2]["status"] for r in runs] == ["completed"] * 3 + ["failed"]

    latest = await (await admin.get(f"{WORKFLOWS}/dashboard/latest-runs", query_string={"limit": 3})).get_json()
    assert [r["id"] for r in latest["items"]] == [runs[3][1], runs[2][1], runs[1][1]]
    assert latest["items"][0]["workflow_name"] == "Divides by zero" and latest["items"][0]["status"] == "failed"
    assert all(r["duration_ms"] is not None for r in latest["items"])

    metrics = await (await admin.get(f"{WORKFLOWS}/metrics")).get_json()
    assert metrics["org"]["total"] == 4 and metrics["org"]["succeeded"] == 3 and metrics["org"]["failed"] == 1
    assert (
        metrics["org"]["p50_duration_ms"] is not None
        and metrics["org"]["p95_duration_ms"] >= metrics["org"]["p50_duration_ms"]
    )
    by_name = {m["workflow_name"]: m for m in metrics["workflows"]}
    assert by_name["Doubles"]["total"] == 3 and by_name["Divides by zero"]["failed"] == 1
    only = await (await admin.get(f"{WORKFLOWS}/metrics", query_string={"workflow_id": bad["id"]})).get_json()
    assert only["org"]["total"] == 1 and [m["workflow_name"] for m in only["workflows"]] == ["Divides by zero"]

    logs_path = f"{WORKFLOWS}/{good['id']}/executions/{runs[0][1]}/logs"
    first = await (await admin.get(logs_path, query_string={"limit": 2})).get_json()
    assert [e["node_id"] for e in first["items"]] == ["start", "note"] and first["next_after"] == 2
    rest = await (await admin.get(logs_path, query_string={"after": first["next_after"]})).get_json()
    assert [e["node_id"] for e in rest["items"]] == ["double"] and rest["next_after"] is None
    assert rest["items"][0]["output"] == {"twice": 0}
    assert (await admin.get(logs_path, query_string={"limit": 0})).status_code == 422
    assert (await outsider.get(logs_path)).status_code == 404

    usage = await (await admin.get(f"{WORKFLOWS}/usage")).get_json()
    assert usage["runs"] == 4 and usage["limit"] == 10_000 and usage["remaining"] == 9_996
    empty = await (await outsider.get(f"{WORKFLOWS}/dashboard/latest-runs")).get_json()
    assert empty["items"] == []
    assert (await (await outsider.get(f"{WORKFLOWS}/metrics")).get_json())["org"]["total"] == 0

"""Edit operations (seed 000) and node patches: applied all or none, validated as a whole, one version per request."""

from __future__ import annotations

from typing import Any

from switchboard.workflows.models import WorkflowVersion
from tests.workflows.conftest import WORKFLOWS

CHECK = {
    "id": "check",
    "type": "condition",
    "config": {"conditions": [{"left": "{{ nodes.calc.output.result }}", "op": "gt", "right": 10}]},
}
REPORT = {"id": "report", "type": "transform", "config": {"value": {"result": "{{ nodes.calc.output.result }}"}}}


async def operate(account, workflow_id: str, operations: list[dict[str, Any]], **headers: str) -> Any:
    return await account.post(
        f"{WORKFLOWS}/{workflow_id}/operations",
        json={"operations": operations},
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )


async def test_a_batch_of_operations_is_one_new_version_with_a_summary(admin, create_workflow):
    created = await create_workflow()
    response = await operate(
        admin,
        created["id"],
        [
            {"op": "add_node", "node": CHECK},
            {"op": "add_node", "node": REPORT},
            {"op": "connect", "from": "calc", "to": "check"},
            {"op": "connect", "from": "check", "to": "report", "when": "true"},
            {"op": "update_node", "node_id": "calc", "config": {"arguments": {"expression": "{{ input.a }} * 8"}}},
            {"op": "rename", "node_id": "calc", "name": "Multiply"},
            {"op": "rename", "name": "Numbers review v2"},
        ],
        If_Match="1",
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["version"] == 2 and body["name"] == "Numbers review v2"
    assert [n["id"] for n in body["nodes"]] == ["start", "calc", "check", "report"]
    calc = body["nodes"][1]
    assert calc["name"] == "Multiply"
    assert calc["config"] == {
        "agent": "calculator",
        "tool": "calculate",
        "arguments": {"expression": "{{ input.a }} * 8"},
    }
    assert {"from": "check", "to": "report", "when": "true"} in body["edges"]
    assert "added condition node check" in body["change_summary"] and "renamed node calc" in body["change_summary"]
    assert await WorkflowVersion.filter(workflow_id=created["id"]).count() == 2


async def test_one_bad_operation_applies_none(admin, create_workflow):
    created = await create_workflow()
    response = await operate(
        admin,
        created["id"],
        [
            {"op": "rename", "name": "Renamed"},
            {"op": "add_node", "node": REPORT},
            {"op": "connect", "from": "calc", "to": "report"},
            {"op": "remove_node", "node_id": "ghost"},
        ],
    )
    assert response.status_code == 422
    body = await response.get_json()
    (problem,) = body["details"]
    assert problem["operation"] == 3 and problem["op"] == "remove_node" and problem["node"] == "ghost"
    assert problem["field"] == "node_id"
    current = await (await admin.get(f"{WORKFLOWS}/{created['id']}")).get_json()
    assert current["version"] == 1 and current["name"] == "Numbers review" and len(current["nodes"]) == 2


async def test_operations_that_leave_an_invalid_graph_apply_none(admin, create_workflow):
    created = await create_workflow()
    # each applies, but the node is left unconnected and the config wrong: the whole is refused
    response = await operate(
        admin,
        created["id"],
        [
            {"op": "add_node", "node": {"id": "wait", "type": "delay", "config": {}}},
            {"op": "update_node", "node_id": "calc", "retry": {"attempts": 3}},
        ],
    )
    details = (await response.get_json())["details"]
    assert response.status_code == 422
    assert {(d["node"], d["field"]) for d in details} >= {("wait", "edges"), ("wait", "config")}
    assert (await (await admin.get(f"{WORKFLOWS}/{created['id']}")).get_json())["version"] == 1


async def test_remove_node_drops_its_edges_and_disconnect_removes_one(admin, create_workflow):
    created = await create_workflow()
    path = created["id"]
    added = await operate(
        admin,
        path,
        [{"op": "add_node", "node": REPORT}, {"op": "connect", "from": "calc", "to": "report"}],
    )
    assert added.status_code == 200
    removed = await (await operate(admin, path, [{"op": "remove_node", "node_id": "report"}])).get_json()
    assert removed["version"] == 3 and [e["to"] for e in removed["edges"]] == ["calc"]
    # disconnecting the only edge leaves calc unreachable: refused
    cut = await operate(admin, path, [{"op": "disconnect", "from": "start", "to": "calc"}])
    assert cut.status_code == 422 and (await cut.get_json())["details"][0]["node"] == "calc"
    missing = await operate(admin, path, [{"op": "disconnect", "from": "calc", "to": "start"}])
    assert (await missing.get_json())["details"][0]["op"] == "disconnect"


async def test_duplicates_and_unknown_operations(admin, create_workflow):
    created = await create_workflow()
    dup = await operate(admin, created["id"], [{"op": "add_node", "node": {**REPORT, "id": "calc"}}])
    assert dup.status_code == 422 and "already exists" in (await dup.get_json())["details"][0]["message"]
    edge = await operate(admin, created["id"], [{"op": "connect", "from": "start", "to": "calc"}])
    assert edge.status_code == 422
    unknown = await operate(admin, created["id"], [{"op": "explode"}])
    assert unknown.status_code == 422
    empty = await operate(admin, created["id"], [])
    assert empty.status_code == 422


async def test_patch_node_merges_config(admin, create_workflow):
    created = await create_workflow()
    path = f"{WORKFLOWS}/{created['id']}/nodes/calc"
    patched = await admin.patch(
        path,
        json={"config": {"arguments": {"note": "weekly"}}, "timeout_seconds": 30, "retry": {"attempts": 4}},
        headers={"If-Match": "1"},
    )
    assert patched.status_code == 200, await patched.get_data(as_text=True)
    body = await patched.get_json()
    calc = body["nodes"][1]
    assert calc["config"]["arguments"] == {"expression": "{{ input.a }} * 7", "note": "weekly"}
    assert calc["timeout_seconds"] == 30 and calc["retry"]["attempts"] == 4 and body["version"] == 2
    # a null removes a key
    removed = await (await admin.patch(path, json={"config": {"arguments": {"note": None}}})).get_json()
    assert removed["nodes"][1]["config"]["arguments"] == {"expression": "{{ input.a }} * 7"}
    bad = await admin.patch(path, json={"config": {"tool": "integrate"}})
    assert bad.status_code == 422 and (await bad.get_json())["details"][0] == {
        "node": "calc",
        "field": "config.tool",
        "message": "the agent calculator has no tool named integrate",
    }
    assert (await admin.patch(f"{WORKFLOWS}/{created['id']}/nodes/ghost", json={"name": "x"})).status_code == 404

"""Validation of the node types with structure of their own: routers, loops, subworkflows, merges."""

from __future__ import annotations

from typing import Any

from tests.workflows.conftest import WORKFLOWS, simple_definition
from tests.workflows.test_definitions import named, problems_of

ROUTER = {
    "id": "size",
    "type": "router",
    "config": {
        "routes": [
            {"name": "large", "conditions": [{"left": "{{ input.amount }}", "op": "gte", "right": 1000}]},
            {"name": "small", "conditions": [{"left": "{{ input.amount }}", "op": "lt", "right": 1000}]},
        ]
    },
}


def transform(node_id: str, value: Any = "ok") -> dict[str, Any]:
    return {"id": node_id, "type": "transform", "config": {"value": value}}


async def test_router_edges_name_a_route_or_default(admin):
    definition = simple_definition()
    definition["nodes"] += [ROUTER, transform("big"), transform("other"), transform("lost")]
    definition["edges"] += [
        {"from": "calc", "to": "size"},
        {"from": "size", "to": "big", "when": "large"},
        {"from": "size", "to": "other", "when": "default"},
        {"from": "size", "to": "lost"},
    ]
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert "large, small, default" in named(details, "size", "edges.4.when")["message"]
    definition["edges"][4]["when"] = "small"
    assert (await admin.post(WORKFLOWS, json=definition)).status_code == 201


async def test_loop_steps_are_checked_inside_the_loop(admin):
    definition = simple_definition()
    definition["nodes"].append(
        {
            "id": "each",
            "type": "loop",
            "config": {
                "items": "{{ input.rows }}",
                "steps": [
                    {"id": "double", "type": "tool", "config": {"agent": "calculator", "tool": "nope"}},
                    {"id": "gate", "type": "approval", "config": {}},
                    {"id": "shape", "type": "transform", "config": {"value": "{{ item }} {{ nodes.double.output }}"}},
                    {"id": "peek", "type": "transform", "config": {"value": "{{ nodes.later.output }}"}},
                ],
            },
        }
    )
    definition["nodes"].append(transform("later"))
    definition["edges"] += [{"from": "calc", "to": "each"}, {"from": "each", "to": "later"}]
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert "no tool named nope" in named(details, "each", "config.steps.0.config.tool")["message"]
    assert "inside a loop" in named(details, "each", "config.steps.1.type")["message"]
    assert "nodes.later" in named(details, "each", "config.steps.3.config.value")["message"]
    # `item` and an earlier step of the loop are fine
    assert not [d for d in details if d["field"].startswith("config.steps.2")]


async def test_a_merge_cannot_wait_for_more_branches_than_lead_to_it(admin):
    definition = simple_definition()
    definition["nodes"].append({"id": "join", "type": "merge", "config": {"mode": "count", "count": 2}})
    definition["edges"].append({"from": "calc", "to": "join"})
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert "only 1 lead here" in named(details, "join", "config.count")["message"]


async def test_a_workflow_cannot_run_itself_and_a_deleted_one_is_gone(admin, create_workflow):
    created = await create_workflow()
    other = await create_workflow()
    definition = simple_definition()
    definition["nodes"].append(
        {"id": "sub", "type": "subworkflow", "config": {"workflow_id": created["id"], "version": 1}}
    )
    definition["edges"].append({"from": "calc", "to": "sub"})
    path = f"{WORKFLOWS}/{created['id']}"
    details = await problems_of(await admin.put(path, json=definition))
    assert "itself" in named(details, "sub", "config.workflow_id")["message"]
    definition["nodes"][-1]["config"]["workflow_id"] = other["id"]
    assert (await admin.put(path, json=definition)).status_code == 200
    assert (await admin.delete(f"{WORKFLOWS}/{other['id']}")).status_code == 204
    details = await problems_of(await admin.put(path, json=definition))
    assert named(details, "sub", "config.workflow_id")


async def test_trigger_kind_follows_the_trigger_node(admin, create_workflow):
    definition = simple_definition()
    definition["nodes"][0]["config"] = {"kind": "schedule"}
    created = await create_workflow(definition)
    assert created["trigger_kind"] == "schedule"
    listed = await (await admin.get(f"{WORKFLOWS}?search=NUMBERS")).get_json()
    assert [w["trigger_kind"] for w in listed["items"]] == ["schedule"]
    patched = await admin.patch(f"{WORKFLOWS}/{created['id']}/nodes/start", json={"config": {"kind": "webhook"}})
    assert (await patched.get_json())["trigger_kind"] == "webhook"
    nothing = await admin.post(WORKFLOWS, json={"name": "x", "nodes": [transform("only")]})
    assert "exactly one trigger" in named(await problems_of(nothing), None, "nodes")["message"]


async def test_a_delivery_url_is_a_template_too(admin):
    definition = simple_definition()
    definition["nodes"].append(
        {
            "id": "send",
            "type": "delivery",
            "config": {"channel": "webhook", "url": "https://example.com/{{ nodes.nowhere.output }}"},
        }
    )
    definition["edges"].append({"from": "calc", "to": "send"})
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert "nodes.nowhere" in named(details, "send", "config.url")["message"]

"""Workflow definitions over HTTP: create, read, list, save with If-Match, validation on save, status, delete."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from switchboard.workflows.definition import NODE_CONFIGS
from switchboard.workflows.models import Workflow, WorkflowVersion
from tests.workflows.conftest import WORKFLOWS, simple_definition


def node(definition: dict[str, Any], node_id: str) -> dict[str, Any]:
    (found,) = [n for n in definition["nodes"] if n["id"] == node_id]
    return found


async def problems_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["error"] == "validation_error"
    details: list[dict[str, Any]] = body["details"]
    return details


def named(details: list[dict[str, Any]], node_id: str | None, field: str) -> dict[str, Any]:
    found = [d for d in details if d["node"] == node_id and d["field"] == field]
    assert found, f"no problem for node {node_id} field {field} in {details}"
    return found[0]


async def test_create_answers_the_definition_as_version_1(admin, create_workflow):
    created = await create_workflow()
    assert created["version"] == 1 and created["status"] == "draft" and created["trigger_kind"] == "manual"
    assert created["owner_id"] == admin.user_id and created["name"] == "Numbers review"
    assert [n["id"] for n in created["nodes"]] == ["start", "calc"]
    assert created["edges"] == [{"from": "start", "to": "calc", "when": None}]
    assert node(created, "calc")["retry"]["attempts"] == 1
    got = await admin.get(f"{WORKFLOWS}/{created['id']}")
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    assert await got.get_json() == created
    listed = await (await admin.get(WORKFLOWS)).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == created["id"]
    assert "nodes" not in listed["items"][0]


async def test_put_with_the_current_version_saves_a_new_version(admin, create_workflow):
    created = await create_workflow()
    changed = simple_definition("Numbers review, weekly")
    changed["nodes"][0]["config"]["kind"] = "webhook"
    saved = await admin.put(f"{WORKFLOWS}/{created['id']}", json=changed, headers={"If-Match": '"1"'})
    assert saved.status_code == 200, await saved.get_data(as_text=True)
    body = await saved.get_json()
    assert body["version"] == 2 and body["name"] == "Numbers review, weekly" and body["trigger_kind"] == "webhook"
    assert saved.headers["ETag"] == '"2"'
    # version 1 is kept as it was
    first = await (await admin.get(f"{WORKFLOWS}/{created['id']}/versions/1")).get_json()
    assert first["name"] == "Numbers review" and node(first, "start")["config"] == {"kind": "manual"}


async def test_if_match_on_an_old_version_is_412_with_the_current_one(admin, member, create_workflow):
    created = await create_workflow()
    path = f"{WORKFLOWS}/{created['id']}"
    assert (await member.put(path, json=simple_definition("Mine"), headers={"If-Match": "1"})).status_code == 200
    stale = await admin.put(path, json=simple_definition("Theirs"), headers={"If-Match": "1"})
    assert stale.status_code == 412
    body = await stale.get_json()
    assert body["error"] == "version_mismatch" and body["details"]["current"] == 2
    # the edit operations and node patches check it too
    ops = await admin.post(
        f"{path}/operations", json={"operations": [{"op": "rename", "name": "x"}]}, headers={"If-Match": "1"}
    )
    assert ops.status_code == 412 and (await ops.get_json())["details"]["current"] == 2
    patched = await admin.patch(f"{path}/nodes/calc", json={"name": "Calc"}, headers={"If-Match": '"1"'})
    assert patched.status_code == 412
    assert (await (await admin.get(path)).get_json())["name"] == "Mine"
    assert await WorkflowVersion.filter(workflow_id=created["id"]).count() == 2


async def test_two_concurrent_saves_on_one_version_one_wins_one_is_412(admin, member, create_workflow):
    created = await create_workflow()
    path = f"{WORKFLOWS}/{created['id']}"
    answers = await asyncio.gather(
        admin.put(path, json=simple_definition("From Ada"), headers={"If-Match": "1"}),
        member.put(path, json=simple_definition("From Max"), headers={"If-Match": "1"}),
    )
    assert sorted(a.status_code for a in answers) == [200, 412]
    assert await WorkflowVersion.filter(workflow_id=created["id"]).count() == 2
    winner = await next(a for a in answers if a.status_code == 200).get_json()
    assert (await (await admin.get(path)).get_json())["name"] == winner["name"]


async def test_malformed_if_match_is_422(admin, create_workflow):
    created = await create_workflow()
    bad = await admin.put(f"{WORKFLOWS}/{created['id']}", json=simple_definition(), headers={"If-Match": "latest"})
    assert bad.status_code == 422 and (await bad.get_json())["details"][0]["field"] == "If-Match"


async def test_graph_problems_name_node_and_field(admin):
    definition = simple_definition()
    definition["nodes"].append(
        {"id": "check", "type": "condition", "config": {"conditions": [{"left": "1", "op": "eq"}]}}
    )
    definition["nodes"].append({"id": "again", "type": "trigger", "config": {}})
    definition["edges"] += [
        {"from": "calc", "to": "check", "when": "true"},  # a tool has no branches
        {"from": "check", "to": "calc", "when": "maybe"},  # a cycle, and no such branch
        {"from": "calc", "to": "ghost"},  # no such node
    ]
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert "no branches" in named(details, "calc", "edges.1.when")["message"]
    assert "not a branch" in named(details, "check", "edges.2.when")["message"]
    assert "ghost" in named(details, "calc", "edges.3.to")["message"]
    assert "exactly one trigger" in named(details, "again", "type")["message"]
    assert await Workflow.all().count() == 0


async def test_a_cycle_is_refused(admin):
    definition = simple_definition()
    definition["nodes"].append({"id": "back", "type": "transform", "config": {"value": 1}})
    definition["edges"] += [{"from": "calc", "to": "back"}, {"from": "back", "to": "calc"}]
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert {"calc", "back"} <= {d["node"] for d in details if "cycle" in d["message"]}


async def test_configs_templates_agents_and_tools_are_checked(admin):
    definition = simple_definition()
    node(definition, "calc")["config"]["arguments"] = {"expression": "{{ input.a * }}"}
    definition["nodes"] += [
        {"id": "ask", "type": "agent", "config": {"agent": "nobody", "instruction": "Hello"}},
        {"id": "sum", "type": "tool", "config": {"agent": "calculator", "tool": "integrate"}},
        {"id": "wait", "type": "delay", "config": {"seconds": 5, "until": "2030-01-01"}},
        {
            "id": "peek",
            "type": "transform",
            "config": {"value": {"a": "{{ nodes.later.output }}", "b": "{{ inputs.a }}"}},
        },
        {"id": "later", "type": "transform", "config": {"value": {"text": "{{ nodes.peek.output }}"}}},
        {"id": "ok", "type": "approval", "config": {"approvers": {"roles": ["admin"]}}},
    ]
    definition["edges"] += [
        {"from": "calc", "to": "ask"},
        {"from": "ask", "to": "sum"},
        {"from": "sum", "to": "wait"},
        {"from": "wait", "to": "peek"},
        {"from": "peek", "to": "later"},
        {"from": "later", "to": "ok"},
    ]
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert "compile" in named(details, "calc", "config.arguments.expression")["message"]
    assert "nobody" in named(details, "ask", "config.agent")["message"]
    assert "integrate" in named(details, "sum", "config.tool")["message"]
    assert "exactly one of seconds or until" in named(details, "wait", "config")["message"]
    assert "nodes.later" in named(details, "peek", "config.value.a")["message"]
    assert "inputs" in named(details, "peek", "config.value.b")["message"]
    assert named(details, "ok", "config.title")["message"]


async def test_body_errors_name_the_node_too(admin):
    definition = simple_definition()
    node(definition, "calc")["retry"] = {"attempts": 11}
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert named(details, "calc", "nodes.1.retry.attempts")


async def test_approvers_and_subworkflows_must_be_of_the_org(admin, outsider, create_workflow):
    theirs = await create_workflow(account=outsider)
    definition = simple_definition()
    definition["nodes"] += [
        {
            "id": "ok",
            "type": "approval",
            "config": {"approvers": {"users": [outsider.user_id, admin.user_id]}, "title": "Check"},
        },
        {"id": "sub", "type": "subworkflow", "config": {"workflow_id": theirs["id"], "version": 1}},
    ]
    definition["edges"] += [{"from": "calc", "to": "ok"}, {"from": "ok", "to": "sub"}]
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert outsider.user_id in named(details, "ok", "config.approvers.users")["message"]
    assert named(details, "sub", "config.workflow_id")
    mine = await create_workflow()
    node(definition, "ok")["config"]["approvers"]["users"] = [admin.user_id]
    node(definition, "sub")["config"] = {"workflow_id": mine["id"], "version": 7}
    details = await problems_of(await admin.post(WORKFLOWS, json=definition))
    assert "no version 7" in named(details, "sub", "config.version")["message"]
    node(definition, "sub")["config"]["version"] = 1
    assert (await admin.post(WORKFLOWS, json=definition)).status_code == 201


async def test_the_issues_example_with_branches_saves(admin, member):
    definition = {
        "name": "Numbers review",
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {
                "id": "calc",
                "type": "tool",
                "config": {
                    "agent": "calculator",
                    "tool": "calculate",
                    "arguments": {"expression": "{{ input.a }} * 7"},
                },
            },
            {
                "id": "review",
                "type": "approval",
                "config": {
                    "approvers": {"users": [member.user_id]},
                    "mode": "any",
                    "title": "Check {{ nodes.calc.output.result }}",
                },
            },
            {
                "id": "big",
                "type": "condition",
                "config": {"conditions": [{"left": "{{ input.a }}", "op": "gt", "right": 3}]},
            },
            {"id": "done", "type": "transform", "config": {"value": "{{ nodes.calc.output }}"}},
            {"id": "no", "type": "transform", "config": {"value": "rejected"}},
        ],
        "edges": [
            {"from": "start", "to": "calc"},
            {"from": "calc", "to": "review"},
            {"from": "review", "to": "big"},
            {"from": "review", "to": "no", "when": "rejected"},
            {"from": "big", "to": "done", "when": "true"},
        ],
    }
    response = await admin.post(WORKFLOWS, json=definition)
    assert response.status_code == 201, await response.get_data(as_text=True)


async def test_soft_delete_hides_the_workflow_and_its_versions(admin, create_workflow):
    created = await create_workflow()
    path = f"{WORKFLOWS}/{created['id']}"
    assert (await admin.delete(path)).status_code == 204
    for url in (path, f"{path}/versions", f"{path}/versions/1"):
        assert (await admin.get(url)).status_code == 404, url
    assert (await admin.put(path, json=simple_definition())).status_code == 404
    assert (await admin.delete(path)).status_code == 404
    assert (await (await admin.get(WORKFLOWS)).get_json())["total"] == 0
    assert await Workflow.filter(id=created["id"]).exists()  # kept, only hidden


async def test_activate_pause_archive(admin, create_workflow):
    created = await create_workflow()
    path = f"{WORKFLOWS}/{created['id']}"
    bad_pause = await admin.post(f"{path}/pause")
    assert bad_pause.status_code == 409 and (await bad_pause.get_json())["error"] == "invalid_status"
    assert (await (await admin.post(f"{path}/activate")).get_json())["status"] == "active"
    assert (await (await admin.post(f"{path}/pause")).get_json())["status"] == "paused"
    listed = await (await admin.get(f"{WORKFLOWS}?status=paused")).get_json()
    assert [w["id"] for w in listed["items"]] == [created["id"]]
    assert (await (await admin.post(f"{path}/archive")).get_json())["status"] == "archived"
    refused = await admin.put(path, json=simple_definition())
    assert refused.status_code == 409 and (await refused.get_json())["error"] == "workflow_archived"
    assert (await (await admin.post(f"{path}/activate")).get_json())["status"] == "active"
    # status changes are not versions
    assert (await (await admin.get(path)).get_json())["version"] == 1


async def test_failed_runs_put_the_workflow_in_error_and_a_success_resets(admin, create_workflow):
    from switchboard.workflows.service import record_run_outcome

    definition = simple_definition(settings={"failure_threshold": 2})
    created = await create_workflow(definition)
    path = f"{WORKFLOWS}/{created['id']}"
    await admin.post(f"{path}/activate")
    await record_run_outcome(created["id"], False)
    await record_run_outcome(created["id"], True)
    await record_run_outcome(created["id"], False)
    assert (await (await admin.get(path)).get_json())["status"] == "active"
    await record_run_outcome(created["id"], False)
    body = await (await admin.get(path)).get_json()
    assert body["status"] == "error" and body["consecutive_failures"] == 2
    reactivated = await (await admin.post(f"{path}/activate")).get_json()
    assert reactivated["status"] == "active" and reactivated["consecutive_failures"] == 0


async def test_another_orgs_workflow_is_404_everywhere(admin, outsider, create_workflow):
    created = await create_workflow()
    path = f"{WORKFLOWS}/{created['id']}"
    for method, url, body in (
        ("GET", path, None),
        ("PUT", path, simple_definition()),
        ("DELETE", path, None),
        ("POST", f"{path}/activate", None),
        ("POST", f"{path}/pause", None),
        ("POST", f"{path}/operations", {"operations": [{"op": "rename", "name": "mine"}]}),
        ("PATCH", f"{path}/nodes/calc", {"name": "mine"}),
        ("GET", f"{path}/versions", None),
        ("GET", f"{path}/versions/1", None),
        ("GET", f"{path}/versions/compare?a=1&b=1", None),
        ("POST", f"{path}/versions/1/restore", None),
    ):
        response = await outsider.client.open(url, method=method, headers=outsider.headers, json=body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert created["name"] not in await response.get_data(as_text=True)
    assert (await (await outsider.get(WORKFLOWS)).get_json())["items"] == []
    assert (await (await admin.get(path)).get_json())["version"] == 1


async def test_node_catalog_filters_and_examples_validate(admin):
    catalog = await (await admin.get(f"{WORKFLOWS}/node-types")).get_json()
    types = {t["type"]: t for t in catalog["items"]}
    assert catalog["total"] == 12 and set(types) >= {"trigger", "approval", "loop", "subworkflow"}
    assert types["approval"]["branches"] == ["approved", "rejected", "timeout"]
    assert "approvers" in types["approval"]["config_schema"]["properties"]
    human = await (await admin.get(f"{WORKFLOWS}/node-types?category=human")).get_json()
    assert [t["type"] for t in human["items"]] == ["approval"]
    found = await (await admin.get(f"{WORKFLOWS}/node-types?search=WEBHOOK")).get_json()
    assert {t["type"] for t in found["items"]} >= {"trigger", "delivery"}
    for entry in catalog["items"]:  # every example's config is valid for its type
        NODE_CONFIGS[entry["type"]].model_validate(entry["example"]["config"])
    nul = await admin.get(f"{WORKFLOWS}/node-types?search=a%00b")
    assert nul.status_code == 422
    # an example drops into a definition as it is
    definition = copy.deepcopy(simple_definition())
    definition["nodes"].append({**types["transform"]["example"], "id": "shape"})
    definition["edges"].append({"from": "calc", "to": "shape"})
    assert (await admin.post(WORKFLOWS, json=definition)).status_code == 201


async def test_a_create_retried_with_its_idempotency_key_makes_one_workflow(admin):
    headers = {"Idempotency-Key": "create-numbers-review"}
    first = await admin.post(WORKFLOWS, json=simple_definition(), headers=headers)
    again = await admin.post(WORKFLOWS, json=simple_definition(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert (await again.get_json())["id"] == (await first.get_json())["id"]
    assert await Workflow.all().count() == 1

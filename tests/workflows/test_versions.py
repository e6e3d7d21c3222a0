"""Versions: immutable, listed newest first, compared field by field, restored as a new version."""

from __future__ import annotations

from tests.workflows.conftest import WORKFLOWS, simple_definition


async def _three_versions(admin, create_workflow) -> str:
    created = await create_workflow()
    workflow_id: str = created["id"]
    second = simple_definition("Numbers review v2")
    second["nodes"][1]["config"]["arguments"]["expression"] = "{{ input.a }} * 9"
    second["nodes"].append({"id": "report", "type": "transform", "config": {"value": "{{ nodes.calc.output }}"}})
    second["edges"].append({"from": "calc", "to": "report"})
    second["settings"] = {"max_concurrent_runs": 3}
    assert (await admin.put(f"{WORKFLOWS}/{workflow_id}", json=second)).status_code == 200
    ops = {"operations": [{"op": "remove_node", "node_id": "report"}, {"op": "rename", "node_id": "calc", "name": "C"}]}
    assert (await admin.post(f"{WORKFLOWS}/{workflow_id}/operations", json=ops)).status_code == 200
    return workflow_id


async def test_versions_list_newest_first_with_author_and_summary(admin, member, create_workflow):
    workflow_id = await _three_versions(admin, create_workflow)
    page = await (await member.get(f"{WORKFLOWS}/{workflow_id}/versions?limit=2")).get_json()
    assert page["total"] == 3 and [v["version"] for v in page["items"]] == [3, 2]
    assert (
        page["items"][0]["author_id"] == admin.user_id and "removed node report" in page["items"][0]["change_summary"]
    )
    assert page["items"][1]["node_count"] == 3
    rest = await (await member.get(f"{WORKFLOWS}/{workflow_id}/versions?limit=2&offset=2")).get_json()
    assert [v["version"] for v in rest["items"]] == [1]
    assert (await member.get(f"{WORKFLOWS}/{workflow_id}/versions/4")).status_code == 404
    assert (await member.get(f"{WORKFLOWS}/{workflow_id}/versions/99999999999999")).status_code == 404
    assert (await member.get(f"{WORKFLOWS}/{workflow_id}/versions?offset=-1")).status_code == 422


async def test_compare_names_nodes_fields_and_edges(admin, create_workflow):
    workflow_id = await _three_versions(admin, create_workflow)
    diff = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/versions/compare?a=1&b=2")).get_json()
    assert diff["a"] == 1 and diff["b"] == 2
    assert diff["workflow"] == ["name", "settings.max_concurrent_runs"]
    assert diff["nodes"] == {
        "added": ["report"],
        "removed": [],
        "changed": [{"id": "calc", "fields": ["config.arguments"]}],
    }
    assert diff["edges"] == {"added": [{"from": "calc", "to": "report", "when": None}], "removed": []}
    back = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/versions/compare?a=2&b=3")).get_json()
    assert back["nodes"] == {"added": [], "removed": ["report"], "changed": [{"id": "calc", "fields": ["name"]}]}
    assert back["edges"]["removed"] == [{"from": "calc", "to": "report", "when": None}]
    missing = await admin.get(f"{WORKFLOWS}/{workflow_id}/versions/compare?a=1&b=9")
    assert missing.status_code == 404
    latest = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/versions/compare")).get_json()
    assert latest == back
    assert (await admin.get(f"{WORKFLOWS}/{workflow_id}/versions/compare?a=0")).status_code == 422


async def test_restore_makes_a_new_version_equal_to_the_old_one(admin, create_workflow):
    workflow_id = await _three_versions(admin, create_workflow)
    restored = await admin.post(f"{WORKFLOWS}/{workflow_id}/versions/2/restore", headers={"If-Match": "3"})
    assert restored.status_code == 200, await restored.get_data(as_text=True)
    body = await restored.get_json()
    assert body["version"] == 4 and body["change_summary"] == "restored version 2"
    v2 = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/versions/2")).get_json()
    v4 = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/versions/4")).get_json()
    for key in ("name", "description", "nodes", "edges", "settings"):
        assert v4[key] == v2[key], key
    same = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/versions/compare?a=2&b=4")).get_json()
    assert same["workflow"] == [] and same["nodes"]["changed"] == [] and same["edges"]["added"] == []
    stale = await admin.post(f"{WORKFLOWS}/{workflow_id}/versions/1/restore", headers={"If-Match": "3"})
    assert stale.status_code == 412 and (await stale.get_json())["details"]["current"] == 4
    assert (await admin.post(f"{WORKFLOWS}/{workflow_id}/versions/9/restore")).status_code == 404

"""Every answer of the definition routes matches what /openapi.json documents for its status.

The fuzz gate cannot reach most of these answers (its generated ids name no workflow), so this walks
one workflow through every route and checks each real answer against the document.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.workflows.conftest import WORKFLOWS, simple_definition


async def test_each_answer_matches_its_documented_schema(admin, create_workflow):
    document = await (await admin.get("/openapi.json")).get_json()
    workflow_id = (await create_workflow())["id"]
    one = f"{WORKFLOWS}/{workflow_id}"
    calls: list[tuple[str, str, str, Any]] = [
        ("get", "", WORKFLOWS, None),
        ("post", "", WORKFLOWS, simple_definition()),
        ("post", "", WORKFLOWS, {"name": "no nodes", "nodes": []}),
        ("get", "/node-types", f"{WORKFLOWS}/node-types?category=logic", None),
        ("get", "/{workflow_id}", one, None),
        ("put", "/{workflow_id}", one, simple_definition("second")),
        ("post", "/{workflow_id}/activate", f"{one}/activate", None),
        ("post", "/{workflow_id}/pause", f"{one}/pause", None),
        ("post", "/{workflow_id}/operations", f"{one}/operations", {"operations": [{"op": "rename", "name": "x"}]}),
        (
            "post",
            "/{workflow_id}/operations",
            f"{one}/operations",
            {"operations": [{"op": "remove_node", "node_id": "zz"}]},
        ),
        ("patch", "/{workflow_id}/nodes/{node_id}", f"{one}/nodes/calc", {"name": "Calc"}),
        ("get", "/{workflow_id}/versions", f"{one}/versions", None),
        ("get", "/{workflow_id}/versions/{version}", f"{one}/versions/1", None),
        ("get", "/{workflow_id}/versions/compare", f"{one}/versions/compare?a=1&b=4", None),
        ("post", "/{workflow_id}/versions/{version}/restore", f"{one}/versions/1/restore", None),
        ("put", "/{workflow_id}", one, simple_definition("stale")),
        ("post", "/{workflow_id}/archive", f"{one}/archive", None),
        ("put", "/{workflow_id}", one, simple_definition("archived")),
        ("get", "/{workflow_id}/versions/{version}", f"{one}/versions/99", None),
    ]
    statuses = []
    for method, template, url, body in calls:
        headers = {**admin.headers, **({"If-Match": "2"} if body and "stale" in str(body) else {})}
        response = await admin.client.open(url, method=method.upper(), headers=headers, json=body)
        responses = document["paths"][f"/api/v1/workflows{template}"][method]["responses"]
        documented = responses.get(str(response.status_code)) or responses["default"]
        schema = {**documented["content"]["application/json"]["schema"], "components": document["components"]}
        errors = list(Draft202012Validator(schema).iter_errors(await response.get_json()))
        assert not errors, (method, url, response.status_code, errors[0].message)
        statuses.append(response.status_code)
    # the walk met successes and each kind of refusal
    assert {200, 201, 404, 409, 412, 422} <= set(statuses)

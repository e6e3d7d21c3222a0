"""One rule for query-string and path parameters on every route: bounded integers, storable text.

The lists of routes come from the OpenAPI document and the URL map, so a new route is checked
the day it is added.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE

from switchboard.platform.query import MAX_QUERY_INT, QueryArgs

ANY_ID = str(uuid.uuid4())


async def _document(client: Any) -> dict[str, Any]:
    spec: dict[str, Any] = await (await client.get("/openapi.json")).get_json()
    return spec


def _fill(path: str) -> str:
    """The path with every `{parameter}` given an id that names nothing."""
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + ANY_ID + path[end + 1 :]
    return path


def _operations(spec: dict[str, Any], has: str) -> list[str]:
    """GET paths whose operation takes the query parameter `has`."""
    return [
        path
        for path, item in spec["paths"].items()
        if any(p["name"] == has and p["in"] == "query" for p in item.get("get", {}).get("parameters", []))
    ]


def _fields(body: dict[str, Any]) -> set[str]:
    return {d["field"] for d in body["details"]}


async def test_every_query_model_follows_the_rule(app):
    """A route's query model derives from QueryArgs, so its integers are bounded and documented."""
    offenders = []
    for endpoint, view in app.view_functions.items():
        model = getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None)
        if model is not None and not issubclass(model, QueryArgs):
            offenders.append(f"{endpoint}: {model.__name__}")
    assert offenders == []


async def test_every_integer_parameter_documents_its_bounds(client):
    spec = await _document(client)
    integers = [
        (path, p["name"], option)
        for path, item in spec["paths"].items()
        for operation in item.values()
        for p in operation.get("parameters", [])
        for option in p["schema"].get("anyOf", [p["schema"]])
        if option.get("type") == "integer"
    ]
    assert integers, "the paginated lists take integers"
    for path, name, schema in integers:
        assert "minimum" in schema and schema.get("maximum", MAX_QUERY_INT + 1) <= MAX_QUERY_INT, (path, name)


async def test_offset_beyond_any_database_integer_is_422_on_every_list(signup):
    ada = await signup()
    spec = await _document(ada.client)
    paginated = _operations(spec, "offset")
    assert {"/api/v1/documents", "/api/v1/audit/logs", "/api/v1/memories"} <= set(paginated)
    for path in paginated:
        response = await ada.get(_fill(path), query_string={"offset": str(2**63), "limit": "10"})
        assert response.status_code == 422, (path, await response.get_data(as_text=True))
        body = await response.get_json()
        assert body["error"] == "validation_error" and _fields(body) == {"offset"}, (path, body)
    # the largest documented offset is still an ordinary, empty page
    last = await ada.get("/api/v1/documents", query_string={"offset": str(MAX_QUERY_INT)})
    assert last.status_code == 200
    assert (await last.get_json())["items"] == []


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/audit/logs", "action"),
        ("/api/v1/audit/logs", "outcome"),
        ("/api/v1/admin/agents/user-overrides/list", "q"),
        ("/api/v1/admin/agents/user-overrides/search", "q"),
        ("/api/v1/admin/agents/user-overrides/search", "agent"),
    ],
)
async def test_nul_in_a_text_filter_is_422_naming_the_field(signup, path, field):
    ada = await signup()
    response = await ada.get(path + f"?{field}=a%00b")
    assert response.status_code == 422, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["error"] == "validation_error" and _fields(body) == {field}
    clean = await ada.get(path, query_string={field: "ab"})
    assert clean.status_code == 200


async def test_text_rule_covers_parameters_a_route_reads_itself(signup):
    """`last_id` of a progress stream is read straight from the query string; the rule still applies."""
    ada = await signup()
    response = await ada.get(f"/api/v1/chat/{ANY_ID}/progress?last_id=1-0%00")
    assert response.status_code == 422
    assert _fields(await response.get_json()) == {"last_id"}


async def test_nul_in_a_path_parameter_is_422(signup):
    ada = await signup()
    response = await ada.get("/api/v1/audit/logs/correlation/abc%00def")
    assert response.status_code == 422
    assert _fields(await response.get_json()) == {"cid"}


async def test_every_list_query_still_answers_a_clean_request(signup):
    ada = await signup()
    spec = await _document(ada.client)
    for path in _operations(spec, "limit"):
        response = await ada.get(_fill(path), query_string={"limit": "5", "offset": "0"})
        assert response.status_code in (200, 404), (path, await response.get_data(as_text=True))

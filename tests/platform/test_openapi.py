"""/openapi.json tells the whole truth: every operation's success answers and request bodies."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate


async def _operations(client: Any) -> dict[tuple[str, str], dict[str, Any]]:
    spec = await (await client.get("/openapi.json")).get_json()
    validate(spec)
    return {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()}


async def test_every_operation_documents_a_success_answer(client):
    operations = await _operations(client)
    missing = [f"{m.upper()} {p}" for (m, p), op in operations.items() if not any(c[0] == "2" for c in op["responses"])]
    assert missing == []
    for (method, path), op in operations.items():
        for code, response in op["responses"].items():
            if code[0] == "2" and code != "204":
                assert response.get("content"), f"{method.upper()} {path} {code} documents no content"


async def test_streams_downloads_deletions_and_uploads_are_documented(client):
    operations = await _operations(client)
    progress = operations[("get", "/api/v1/chat/{task_id}/progress")]
    assert list(progress["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {p["name"] for p in progress["parameters"]} >= {"last_id", "Last-Event-ID"}
    assert list(operations[("get", "/api/v1/audit/my-logs/export")]["responses"]["200"]["content"]) == ["text/csv"]
    export = operations[("get", "/api/v1/auth/account/export")]["responses"]["200"]
    assert list(export["content"]) == ["application/json"] and "Content-Disposition" in export["headers"]
    assert "204" in operations[("delete", "/api/v1/memories/{memory_id}")]["responses"]
    settings = operations[("patch", "/api/v1/auth/settings")]
    assert "200" in settings["responses"] and "requestBody" in settings
    for path in ("/api/v1/documents/upload", "/api/v1/documents/admin/upload"):
        form = operations[("post", path)]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert form["required"] == ["file"] and form["properties"]["file"]["format"] == "binary"


async def test_operations_that_end_the_session_are_marked(client):
    operations = await _operations(client)
    marked = {(m, p) for (m, p), op in operations.items() if op.get("x-ends-session")}
    assert {
        ("post", "/api/v1/auth/logout"),
        ("post", "/api/v1/auth/password"),
        ("post", "/api/v1/auth/account/delete"),
        ("delete", "/api/v1/auth/api-keys/{key_id}"),
    } <= marked
    assert ("get", "/api/v1/auth/me") not in marked

"""Every error, from our code or the framework, is the same JSON shape with the right status."""

from __future__ import annotations

import logging

import pytest


def assert_error_shape(body: dict[str, object], code: str) -> None:
    assert set(body) == {"error", "message", "details"}
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]


async def test_unknown_route_is_json_404(client):
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert_error_shape(await response.get_json(), "not_found")


async def test_wrong_method_is_json_405(client):
    response = await client.delete("/health")
    assert response.status_code == 405
    assert_error_shape(await response.get_json(), "method_not_allowed")


async def test_body_too_large_is_json_413(client, settings):
    huge = {"name": "x" * (settings.max_json_body_bytes + 10), "count": 1}
    response = await client.post("/__test__/echo", json=huge)
    assert response.status_code == 413
    assert_error_shape(await response.get_json(), "payload_too_large")


async def test_invalid_body_is_422_with_each_field(client):
    response = await client.post("/__test__/echo", json={"name": "", "count": -1})
    assert response.status_code == 422
    body = await response.get_json()
    assert_error_shape(body, "validation_error")
    fields = {d["field"] for d in body["details"]}
    assert fields == {"name", "count"}


async def test_malformed_json_is_422(client):
    response = await client.post("/__test__/echo", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    body = await response.get_json()
    assert_error_shape(body, "validation_error")
    assert body["details"][0]["field"] == "body"


async def test_valid_body_passes(client):
    response = await client.post("/__test__/echo", json={"name": "ada", "count": 2})
    assert response.status_code == 200
    assert await response.get_json() == {"name": "ada", "count": 2}


async def test_500_leaks_no_traceback_but_gives_correlation_id(client, caplog):
    with caplog.at_level(logging.ERROR):
        response = await client.get("/__test__/boom", headers={"X-Correlation-ID": "req-boom-1"})
    assert response.status_code == 500
    body = await response.get_json()
    assert_error_shape(body, "internal_error")
    text = await response.get_data(as_text=True)
    assert "Traceback" not in text and "RuntimeError" not in text and "/very/secret" not in text
    assert body["details"] == {"correlation_id": "req-boom-1"}
    assert "req-boom-1" in body["message"]
    # the operator still sees the cause, tied to the same id
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and logged[0].correlation_id == "req-boom-1"


@pytest.mark.parametrize("offered", ["abc-123", "trace.id:7"])
async def test_correlation_id_is_echoed(client, offered):
    response = await client.get("/health", headers={"X-Correlation-ID": offered})
    assert response.headers["X-Correlation-ID"] == offered


async def test_correlation_id_is_generated_when_missing_or_malformed(client):
    first = await client.get("/health")
    bad = await client.get("/health", headers={"X-Correlation-ID": "bad id with spaces;" + "x" * 200})
    for response in (first, bad):
        cid = response.headers["X-Correlation-ID"]
        assert len(cid) == 32 and cid.isalnum()
    assert first.headers["X-Correlation-ID"] != bad.headers["X-Correlation-ID"]


async def test_body_that_is_not_utf8_is_422(client):
    response = await client.post("/__test__/echo", data=b"\xff\xfe{bad", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert (await response.get_json())["details"][0]["field"] == "body"


async def test_unpaired_surrogates_are_422_not_a_database_error(client):
    response = await client.post(
        "/__test__/echo", data=b'{"name": "\\ud800x", "count": 1}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "Unicode" in (await response.get_json())["message"]


async def test_nul_characters_are_422(client):
    response = await client.post(
        "/__test__/echo", data=b'{"name": "a\\u0000b", "count": 1}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422

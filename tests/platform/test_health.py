"""/health, /readyz and /openapi.json."""

from __future__ import annotations

from openapi_spec_validator import validate

from switchboard import __version__


async def test_health_reports_every_dependency(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert await response.get_json() == {
        "status": "ok",
        "db": True,
        "queue": True,
        "events": True,
        "version": __version__,
    }


async def test_readyz_is_ready_when_migrated(client):
    response = await client.get("/readyz")
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["ready"] is True and body["pending_migrations"] == []


async def test_openapi_document_is_valid_openapi_31(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec = await response.get_json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    assert "/health" in spec["paths"] and "/api/v1/system/checks" in spec["paths"]

"""The API's limits per IP (`api_ip`) and per user (`api_user`): 429 with Retry-After past them."""

from __future__ import annotations

from limits import parse


async def test_past_the_ip_limit_every_api_call_is_429_whatever_the_credentials(signup, app, client, monkeypatch):
    ada = await signup()
    monkeypatch.setitem(app.extensions["runtime"].limiter.items, "api_ip", parse("3/minute"))
    for _ in range(3):
        assert (await ada.get("/api/v1/auth/me")).status_code == 200
    limited = await ada.get("/api/v1/auth/me")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert (await limited.get_json())["error"] == "rate_limited"
    # a bad token is not told apart from a good one past the limit, and unguarded routes count too
    forged = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 429
    login = await client.post("/api/v1/auth/login", json={"email": ada.email, "password": ada.password})
    assert login.status_code == 429


async def test_bad_credentials_count_against_the_ip_limit(signup, app, client, monkeypatch):
    ada = await signup()
    monkeypatch.setitem(app.extensions["runtime"].limiter.items, "api_ip", parse("2/minute"))
    for _ in range(2):
        unauthorized = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-token"})
        assert unauthorized.status_code == 401
    assert (await ada.get("/api/v1/auth/me")).status_code == 429


async def test_one_users_limit_leaves_others_alone(signup, app, monkeypatch):
    ada, bob = await signup(), await signup()
    monkeypatch.setitem(app.extensions["runtime"].limiter.items, "api_user", parse("2/minute"))
    for _ in range(2):
        assert (await ada.get("/api/v1/auth/me")).status_code == 200
    limited = await ada.get("/api/v1/auth/me")
    assert limited.status_code == 429 and (await limited.get_json())["details"]["retry_after_ms"] > 0
    assert (await bob.get("/api/v1/auth/me")).status_code == 200

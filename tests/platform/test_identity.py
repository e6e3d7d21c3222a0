"""Accounts: register, sign in, sessions, refresh rotation, passwords, mail tokens, keys, export, deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.platform.identity.models import OneTimeToken, OutboxMail, User
from switchboard.platform.security import hash_token
from tests.support.accounts import PASSWORD, sign_in


async def _last_mail_token(to: str) -> str:
    mail = await OutboxMail.filter(to=to).order_by("-created_at").first()
    assert mail is not None, f"no mail to {to}"
    return mail.body.strip().splitlines()[-1]


async def test_register_creates_personal_org_and_me_shows_it(signup):
    ada = await signup(name="Ada Lovelace")
    me = await (await ada.get("/api/v1/auth/me")).get_json()
    assert me["email"] == ada.email and me["name"] == "Ada Lovelace"
    assert me["role"] == "owner" and me["org"]["name"] == "Ada Lovelace's workspace"
    assert me["email_verified"] is False and me["groups"] == []


async def test_register_rejects_duplicates_and_bad_input(signup, client):
    ada = await signup()
    again = await client.post("/api/v1/auth/register", json={"email": ada.email.upper(), "password": PASSWORD})
    assert again.status_code == 409 and (await again.get_json())["error"] == "email_taken"
    bad = await client.post("/api/v1/auth/register", json={"email": "not-an-email", "password": "short"})
    assert bad.status_code == 422
    assert {d["field"] for d in (await bad.get_json())["details"]} == {"email", "password"}
    assert await User.filter(email="not-an-email").count() == 0


async def test_wrong_password_is_401_and_audited(signup, client):
    ada = await signup()
    response = await client.post("/api/v1/auth/login", json={"email": ada.email, "password": "wrong password!"})
    assert response.status_code == 401 and (await response.get_json())["error"] == "invalid_credentials"
    unknown = await client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever1"})
    assert unknown.status_code == 401
    assert (await unknown.get_json())["message"] == (await response.get_json())["message"]
    logs = await (await ada.get("/api/v1/audit/logs", query_string={"action": "auth.login"})).get_json()
    assert [e["outcome"] for e in logs["items"]][:1] == ["failure"]


async def test_repeated_failures_lock_the_account_with_429(signup, client):
    ada = await signup()
    for _ in range(5):
        r = await client.post("/api/v1/auth/login", json={"email": ada.email, "password": "wrong password!"})
        assert r.status_code == 401
    locked = await client.post("/api/v1/auth/login", json={"email": ada.email, "password": PASSWORD})
    assert locked.status_code == 429
    body = await locked.get_json()
    assert body["error"] == "rate_limited" and body["details"]["retry_after_ms"] > 0
    assert int(locked.headers["Retry-After"]) >= 1


async def test_access_token_and_api_key_and_session_cookie_all_authenticate(signup, app):
    ada = await signup()
    assert (await ada.get("/api/v1/auth/me")).status_code == 200
    # the client kept the httpOnly session cookie from sign-in: a browser needs no header
    via_cookie = await ada.client.get("/api/v1/auth/me")
    assert via_cookie.status_code == 200 and (await via_cookie.get_json())["auth_method"] == "session"
    anonymous = await app.test_client().get("/api/v1/auth/me")
    assert anonymous.status_code == 401 and (await anonymous.get_json())["error"] == "unauthorized"


async def test_cookie_write_without_matching_origin_is_refused(signup):
    ada = await signup()
    no_origin = await ada.client.put("/api/v1/auth/profile", json={"name": "Evil"})
    assert no_origin.status_code == 403 and (await no_origin.get_json())["error"] == "csrf_origin"
    wrong = await ada.client.put(
        "/api/v1/auth/profile", json={"name": "Evil"}, headers={"Origin": "https://evil.example"}
    )
    assert wrong.status_code == 403
    same = await ada.client.put("/api/v1/auth/profile", json={"name": "Ada"}, headers={"Origin": "http://localhost"})
    assert same.status_code == 200 and (await same.get_json())["name"] == "Ada"


async def test_refresh_rotates_and_reuse_revokes_the_family(signup, app):
    ada = await signup()
    old_refresh = next(c for c in ada.client.cookie_jar if c.name == "sb_refresh").value
    first = await ada.client.post("/api/v1/auth/refresh")
    assert first.status_code == 200 and (await first.get_json())["access_token"]
    new_refresh = next(c for c in ada.client.cookie_jar if c.name == "sb_refresh").value
    assert new_refresh != old_refresh
    # an attacker replays the rotated token
    thief = app.test_client()
    thief.set_cookie("localhost", "sb_refresh", old_refresh, path="/api/v1/auth")
    replay = await thief.post("/api/v1/auth/refresh")
    assert replay.status_code == 401 and (await replay.get_json())["error"] == "refresh_reused"
    # the whole family is gone: the legitimate holder's newer token and session cookie no longer work
    assert (await ada.client.post("/api/v1/auth/refresh")).status_code == 401
    assert (await ada.client.get("/api/v1/auth/me")).status_code == 401


async def test_logout_ends_the_session(signup):
    ada = await signup()
    out = await ada.post("/api/v1/auth/logout")
    assert out.status_code == 200
    assert (await ada.client.post("/api/v1/auth/refresh")).status_code == 401
    assert (await ada.client.get("/api/v1/auth/me")).status_code == 401


async def test_password_change_revokes_every_session_and_token(signup, app):
    ada = await signup()
    other_device = await sign_in(app, ada.email)
    wrong = await ada.post(
        "/api/v1/auth/password", json={"current_password": "nope nope", "new_password": "new pass 123"}
    )
    assert wrong.status_code == 401
    changed = await ada.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "new pass 123"}
    )
    assert changed.status_code == 200
    for account in (ada, other_device):
        assert (await account.get("/api/v1/auth/me")).status_code == 401
        assert (await account.client.post("/api/v1/auth/refresh")).status_code == 401
    assert (await sign_in(app, ada.email, "new pass 123")).user_id == ada.user_id


async def test_email_verification_token_is_single_use_and_expires(signup, client):
    ada = await signup()
    token = await _last_mail_token(ada.email)
    ok = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert ok.status_code == 200
    assert (await (await ada.get("/api/v1/auth/me")).get_json())["email_verified"] is True
    used = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert used.status_code == 409 and (await used.get_json())["error"] == "token_used"
    unknown = await client.post("/api/v1/auth/verify-email", json={"token": "no-such-token"})
    assert unknown.status_code == 404
    resend = await client.post("/api/v1/auth/resend-verification", json={"email": ada.email})
    assert resend.status_code == 200


async def test_forgot_password_is_enumeration_resistant_and_reset_works_once(signup, client, app):
    ada = await signup()
    exists = await client.post("/api/v1/auth/forgot-password", json={"email": ada.email})
    missing = await client.post("/api/v1/auth/forgot-password", json={"email": "ghost@example.com"})
    assert exists.status_code == missing.status_code == 200
    assert await exists.get_json() == await missing.get_json()
    assert await OutboxMail.filter(to="ghost@example.com").count() == 0
    token = await _last_mail_token(ada.email)
    reset = await client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "brand new pw"})
    assert reset.status_code == 200
    again = await client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "another pw 1"})
    assert again.status_code == 409
    assert (await ada.get("/api/v1/auth/me")).status_code == 401, "old tokens end with the reset"
    await sign_in(app, ada.email, "brand new pw")


async def test_expired_reset_token_is_410(signup, client):
    ada = await signup()
    await client.post("/api/v1/auth/forgot-password", json={"email": ada.email})
    token = await _last_mail_token(ada.email)
    await OneTimeToken.filter(token_hash=hash_token(token)).update(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    expired = await client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "brand new pw"})
    assert expired.status_code == 410 and (await expired.get_json())["error"] == "token_expired"


async def test_forgot_password_is_limited_to_3_an_hour(signup, client):
    ada = await signup()
    for _ in range(3):
        assert (await client.post("/api/v1/auth/forgot-password", json={"email": ada.email})).status_code == 200
    limited = await client.post("/api/v1/auth/forgot-password", json={"email": ada.email})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert (await limited.get_json())["details"]["retry_after_ms"] > 3_000_000


async def test_api_key_shown_once_works_both_ways_and_revocation_is_immediate(signup, app):
    ada = await signup()
    created = await ada.post("/api/v1/auth/api-keys", json={"name": "ci"})
    assert created.status_code == 201
    body = await created.get_json()
    raw = body["key"]
    assert raw.startswith("sbk_") and body["prefix"] == raw[:12]
    listed = await (await ada.get("/api/v1/auth/api-keys")).get_json()
    assert raw not in str(listed) and listed[0]["prefix"] == body["prefix"]
    anonymous = app.test_client()
    bearer = await anonymous.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    header = await anonymous.get("/api/v1/auth/me", headers={"X-API-Key": raw})
    assert bearer.status_code == header.status_code == 200
    assert (await bearer.get_json())["auth_method"] == "api_key"
    listed = await (await ada.get("/api/v1/auth/api-keys")).get_json()
    assert listed[0]["last_used_at"] is not None
    assert (await ada.delete(f"/api/v1/auth/api-keys/{body['id']}")).status_code == 204
    revoked = await anonymous.get("/api/v1/auth/me", headers={"X-API-Key": raw})
    assert revoked.status_code == 401


async def test_profile_and_settings(signup):
    ada = await signup()
    assert (await (await ada.put("/api/v1/auth/profile", json={"name": "Countess"})).get_json())["name"] == "Countess"
    first = await ada.patch("/api/v1/auth/settings", json={"settings": {"theme": "dark", "lang": "en"}})
    assert (await first.get_json())["settings"] == {"theme": "dark", "lang": "en"}
    second = await ada.patch("/api/v1/auth/settings", json={"settings": {"lang": None}})
    assert (await second.get_json())["settings"] == {"theme": "dark"}


async def test_export_is_a_json_download_of_my_data(signup):
    ada = await signup()
    await ada.post("/api/v1/auth/api-keys", json={"name": "laptop"})
    response = await ada.get("/api/v1/auth/account/export")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    document = await response.get_json()
    assert document["user"]["email"] == ada.email
    assert document["api_keys"][0]["name"] == "laptop" and "key_hash" not in str(document)
    assert document["memberships"][0]["role"] == "owner"
    assert any(e["action"] == "auth.login" for e in document["audit"])


async def test_account_deletion_has_a_grace_period_and_sign_in_cancels_it(signup, app):
    ada = await signup()
    wrong = await ada.post("/api/v1/auth/account/delete", json={"password": "wrong password"})
    assert wrong.status_code == 401
    scheduled = await ada.post("/api/v1/auth/account/delete", json={"password": PASSWORD})
    assert scheduled.status_code == 202
    purge_after = datetime.fromisoformat((await scheduled.get_json())["purge_after"])
    assert timedelta(days=29) < purge_after - datetime.now(UTC) <= timedelta(days=30)
    assert (await ada.get("/api/v1/auth/me")).status_code == 401
    await sign_in(app, ada.email)
    user = await User.get(email=ada.email)
    assert user.delete_requested_at is None


async def test_purge_removes_accounts_past_their_grace(signup):
    from switchboard.platform.identity.service import purge_deleted_accounts

    ada = await signup()
    await User.filter(email=ada.email).update(delete_requested_at=datetime.now(UTC) - timedelta(days=31))
    assert await purge_deleted_accounts() == 1
    assert not await User.filter(email=ada.email).exists()

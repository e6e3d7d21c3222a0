"""Nothing secret reaches the logs or the database in the clear."""

from __future__ import annotations

import logging

import asyncpg

from switchboard.platform.identity.models import User
from tests.support.accounts import PASSWORD


async def test_no_secret_in_logs_after_a_busy_session(signup, caplog, settings):
    caplog.set_level(logging.DEBUG)
    ada = await signup(password=PASSWORD)
    key = await (await ada.post("/api/v1/auth/api-keys", json={"name": "ci"})).get_json()
    await ada.client.post("/api/v1/auth/login", json={"email": ada.email, "password": "a wrong password"})
    new_password = "a much newer password"
    changed = await ada.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": new_password})
    assert changed.status_code == 200
    await ada.client.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]})
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert len(caplog.records) > 10, "the session did log"
    for secret in (PASSWORD, new_password, "a wrong password", key["key"], ada.token):
        assert secret not in text


async def test_passwords_and_keys_are_stored_only_as_hashes(signup, settings):
    ada = await signup()
    key = await (await ada.post("/api/v1/auth/api-keys", json={"name": "ci"})).get_json()
    user = await User.get(email=ada.email)
    assert user.password_hash.startswith("$argon2id$")
    conn = await asyncpg.connect(settings.database_url)
    try:
        dump = str(await conn.fetch("SELECT * FROM users")) + str(await conn.fetch("SELECT * FROM api_keys"))
        dump += str(await conn.fetch("SELECT * FROM sessions")) + str(await conn.fetch("SELECT * FROM refresh_tokens"))
    finally:
        await conn.close()
    assert PASSWORD not in dump and key["key"] not in dump
    session_cookie = next(c for c in ada.client.cookie_jar if c.name == "sb_session").value
    assert session_cookie not in dump


async def test_a_password_hashed_at_another_cost_is_rehashed_at_sign_in_and_still_works(signup, app, settings):
    from argon2 import PasswordHasher

    from tests.support.accounts import sign_in

    ada = await signup()
    # stored when the cost was RFC 9106's second choice (the default); the tests run at a cheaper one
    user = await User.get(email=ada.email)
    user.password_hash = PasswordHasher(time_cost=3, memory_cost=65536).hash(PASSWORD)
    await user.save(update_fields=["password_hash"])
    await sign_in(app, ada.email, PASSWORD)
    upgraded = (await User.get(email=ada.email)).password_hash
    assert upgraded.startswith("$argon2id$") and f"m={settings.password_hash_memory_kib},t=" in upgraded
    assert f"t={settings.password_hash_time_cost}," in upgraded
    await sign_in(app, ada.email, PASSWORD)  # the new hash signs in
    wrong = await ada.client.post("/api/v1/auth/login", json={"email": ada.email, "password": "not it"})
    assert wrong.status_code == 401

"""BYOK model settings: the key is encrypted at rest and never shown; validation makes a real completion."""

from __future__ import annotations

import logging
import uuid

import asyncpg

from switchboard.agents import chat_model_for
from switchboard.agents.models import ModelSettings
from switchboard.agents.providers import Message, complete
from switchboard.platform.auth import principal_for
from switchboard.platform.crypto import SecretBox, UndecryptableSecret
from tests.fakes.openai_server import FakeOpenAI, closed_port
from tests.support.accounts import join_org

RAW_KEY = "sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZ"
PATH = "/api/v1/settings/models"


async def test_key_is_encrypted_never_returned_never_logged(signup, settings, caplog):
    caplog.set_level(logging.DEBUG)
    ada = await signup()
    with FakeOpenAI(api_key=RAW_KEY) as server:
        body = {
            "provider": "openai_compatible",
            "base_url": server.base_url,
            "chat_model": "fake-model",
            "embedding_model": "fake-embed",
            "api_key": RAW_KEY,
        }
        saved = await ada.put(PATH, json=body)
        assert saved.status_code == 200, await saved.get_data(as_text=True)
        shown = await saved.get_json()
        assert shown["has_api_key"] is True and shown["api_key_hint"] == "…" + RAW_KEY[-4:]
        assert shown["source"] == "user" and shown["base_url"] == server.base_url
        validated = await ada.post(f"{PATH}/validate", json={})
        assert validated.status_code == 200, await validated.get_data(as_text=True)
        # the fake server only answers the right key: the stored one decrypted correctly
        assert server.requests[-1].authorization == f"Bearer {RAW_KEY}"
        texts = [await saved.get_data(as_text=True), await validated.get_data(as_text=True)]
        for path in (PATH, f"{PATH}?scope=user", f"{PATH}/providers", "/api/v1/audit/my-logs"):
            texts.append(await (await ada.get(path)).get_data(as_text=True))
        texts.append(await (await ada.get("/api/v1/auth/account/export")).get_data(as_text=True))
    conn = await asyncpg.connect(settings.database_url)
    try:
        dump = str(await conn.fetch("SELECT * FROM model_settings")) + str(await conn.fetch("SELECT * FROM audit_logs"))
    finally:
        await conn.close()
    row = await ModelSettings.get(user_id=ada.user_id)
    assert row.api_key_encrypted and row.api_key_encrypted.startswith("gAAAA")  # a Fernet token
    assert RAW_KEY not in dump and RAW_KEY[3:20] not in dump
    assert all(RAW_KEY not in text for text in texts)
    log_text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert RAW_KEY not in log_text


async def test_validate_against_the_fake_server_and_a_closed_port(signup, openai_server):
    ada = await signup()
    ok = await ada.post(
        f"{PATH}/validate",
        json={"provider": "openai_compatible", "base_url": openai_server.base_url, "chat_model": "fake-model"},
    )
    assert ok.status_code == 200, await ok.get_data(as_text=True)
    body = await ok.get_json()
    assert body["ok"] is True and body["reply"] == "OK" and body["latency_ms"] >= 0
    assert openai_server.last_chat_request()["messages"][0]["role"] == "user"

    down = await ada.post(
        f"{PATH}/validate",
        json={"provider": "vllm", "base_url": f"http://127.0.0.1:{closed_port()}/v1", "chat_model": "m"},
    )
    assert down.status_code == 400
    error = await down.get_json()
    assert error["error"] == "provider_unreachable" and "connection refused" in error["message"]

    wrong_model = await ada.post(
        f"{PATH}/validate",
        json={"provider": "openai_compatible", "base_url": openai_server.base_url, "chat_model": "nope"},
    )
    assert wrong_model.status_code == 400 and (await wrong_model.get_json())["error"] == "provider_rejected"


async def test_internal_addresses_are_refused_and_urls_checked(signup):
    ada = await signup()
    internal = {"provider": "openai_compatible", "base_url": "http://169.254.169.254/v1", "chat_model": "m"}
    refused = await ada.post(f"{PATH}/validate", json=internal)
    assert refused.status_code == 400 and (await refused.get_json())["error"] == "model_endpoint_not_allowed"
    no_url = await ada.put(PATH, json={"provider": "openai_compatible", "chat_model": "m"})
    assert no_url.status_code == 422 and (await no_url.get_json())["details"][0]["field"] == "base_url"
    not_http = await ada.put(PATH, json={"provider": "vllm", "chat_model": "m", "base_url": "file:///etc/passwd"})
    assert not_http.status_code == 422
    nothing = await ada.post(f"{PATH}/validate", json={"provider": "openai"})
    assert nothing.status_code == 400 and (await nothing.get_json())["error"] == "model_settings_missing"


async def test_org_settings_apply_to_members_until_they_bring_their_own(signup, settings, openai_server):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    org_body = {"provider": "ollama", "chat_model": "llama3.2"}
    assert (await member.put(f"{PATH}?scope=organization", json=org_body)).status_code == 403
    assert (await owner.put(f"{PATH}?scope=organization", json=org_body)).status_code == 200
    effective = await (await member.get(PATH)).get_json()
    assert effective["source"] == "organization" and effective["base_url"] == "http://127.0.0.1:11434/v1"

    own = {
        "provider": "openai_compatible",
        "base_url": openai_server.base_url,
        "chat_model": "fake-model",
        "api_key": "sk-member-own-key-000000",
    }
    assert (await member.put(PATH, json=own)).status_code == 200
    assert (await (await member.get(PATH)).get_json())["source"] == "user"
    principal = await principal_for(uuid.UUID(member.user_id), auth_method="jwt", ip=None)
    model = await chat_model_for(principal, settings)
    assert model is not None
    async with model:
        assert (await complete(model, [Message.user("hi")])).text == "OK"
    assert openai_server.requests[-1].authorization == "Bearer sk-member-own-key-000000"

    assert (await member.delete(PATH)).status_code == 204
    assert (await (await member.get(PATH)).get_json())["source"] == "organization"
    assert (await owner.delete(f"{PATH}?scope=organization")).status_code == 204
    assert await (await member.get(PATH)).get_json() == {
        "source": "platform",
        "configured": False,
        "provider": None,
        "base_url": None,
        "chat_model": None,
        "embedding_model": None,
        "has_api_key": False,
        "api_key_hint": None,
        "api_key_problem": None,
        "validated_at": None,
        "updated_at": None,
    }


async def test_keeping_and_removing_the_stored_key(signup):
    ada = await signup()
    body = {"provider": "openai", "chat_model": "gpt-4o-mini", "api_key": RAW_KEY}
    await ada.put(PATH, json=body)
    kept = await (await ada.put(PATH, json={"provider": "openai", "chat_model": "gpt-4o"})).get_json()
    assert kept["has_api_key"] is True and kept["chat_model"] == "gpt-4o"
    removed = await (await ada.put(PATH, json={"provider": "openai", "chat_model": "gpt-4o", "api_key": ""})).get_json()
    assert removed["has_api_key"] is False and removed["api_key_hint"] is None


async def test_providers_are_listed(signup):
    ada = await signup()
    body = await (await ada.get(f"{PATH}/providers")).get_json()
    ids = [p["id"] for p in body["items"]]
    assert {"openai", "openai_compatible", "ollama", "vllm"} <= set(ids)


def test_keys_rotate_from_a_previous_secret_key():
    old = SecretBox("old-secret-key-0123456789")
    token = old.encrypt("sk-abc")
    new = SecretBox("new-secret-key-9876543210", previous=["old-secret-key-0123456789"])
    assert new.decrypt(token) == "sk-abc" and not new.is_current(token)
    rotated = new.rotate(token)
    assert new.is_current(rotated) and SecretBox("new-secret-key-9876543210").decrypt(rotated) == "sk-abc"
    try:
        SecretBox("new-secret-key-9876543210").decrypt(token)
    except UndecryptableSecret:
        pass
    else:
        raise AssertionError("a key from an unknown secret must not decrypt")


async def test_an_org_key_stored_under_a_former_secret_key_must_be_entered_again_by_an_admin(signup):
    owner = await signup()
    member = await signup()
    await join_org(owner, member)
    body = {"provider": "openai", "chat_model": "gpt-4o-mini", "api_key": "sk-org-key-0000000000"}
    assert (await owner.put(f"{PATH}?scope=organization", json=body)).status_code == 200
    await ModelSettings.filter(org_id=owner.org_id, user_id=None).update(
        api_key_encrypted=SecretBox("a-former-secret-key-0123456789").encrypt("sk-org-key-0000000000")
    )
    seen = await (await member.get(PATH)).get_json()
    assert seen["source"] == "organization" and "admin must enter the key again" in seen["api_key_problem"]
    tested = await owner.post(f"{PATH}/validate", json={"scope": "organization"})
    assert tested.status_code == 409 and (await tested.get_json())["error"] == "model_key_unreadable"

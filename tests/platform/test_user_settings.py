"""What PATCH /auth/settings accepts is what GET /auth/me promises: no write can break /auth/me."""

from __future__ import annotations

import pytest


async def _me_settings(account) -> dict[str, object]:  # type: ignore[no-untyped-def]
    me = await account.get("/api/v1/auth/me")
    assert me.status_code == 200, await me.get_data(as_text=True)
    settings: dict[str, object] = (await me.get_json())["settings"]
    return settings


@pytest.mark.parametrize(
    "written",
    [
        {"": 1},
        {"k" * 65: 1},
        {f"key{i}": i for i in range(101)},
    ],
    ids=["empty key", "65-character key", "101 keys"],
)
async def test_settings_me_could_not_answer_are_refused(signup, written):
    ada = await signup()
    await ada.patch("/api/v1/auth/settings", json={"settings": {"theme": "dark"}})
    response = await ada.patch("/api/v1/auth/settings", json={"settings": written})
    assert response.status_code == 422, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["error"] == "validation_error"
    assert all(d["field"].startswith("settings") for d in body["details"]), body
    assert await _me_settings(ada) == {"theme": "dark"}  # nothing was written


async def test_a_merge_past_100_settings_is_refused_and_removals_make_room(signup):
    ada = await signup()
    first = {f"a{i}": i for i in range(60)}
    assert (await ada.patch("/api/v1/auth/settings", json={"settings": first})).status_code == 200
    more = {f"b{i}": i for i in range(41)}
    refused = await ada.patch("/api/v1/auth/settings", json={"settings": more})
    assert refused.status_code == 422
    assert [d["field"] for d in (await refused.get_json())["details"]] == ["settings"]
    assert await _me_settings(ada) == first
    # removing one key in the same write leaves exactly 100: accepted
    accepted = await ada.patch("/api/v1/auth/settings", json={"settings": {**more, "a0": None}})
    assert accepted.status_code == 200
    assert len(await _me_settings(ada)) == 100


async def test_the_longest_keys_and_the_most_keys_allowed_round_trip(signup):
    ada = await signup()
    settings = {f"{i:03d}" + "k" * 61: {"nested": [i]} for i in range(100)}
    response = await ada.patch("/api/v1/auth/settings", json={"settings": settings})
    assert response.status_code == 200
    assert (await response.get_json())["settings"] == settings
    assert await _me_settings(ada) == settings

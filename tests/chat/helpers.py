"""Following chat tasks the way a browser does."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

TERMINAL = ("complete", "error", "cancelled")


def parse_sse(text: str) -> list[dict[str, Any]]:
    """(id, event, data) of each event in an SSE body."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ": " not in line:
                continue
            key, value = line.split(": ", 1)
            fields[key] = value
        if "event" in fields:
            events.append({"id": fields.get("id"), "event": fields["event"], "data": json.loads(fields["data"])})
    return events


async def follow(account, task_id: str, last_id: str | None = None) -> list[dict[str, Any]]:
    """Every event of the task's stream until the terminal one (the stream ends itself)."""
    query = {"last_id": last_id} if last_id else None
    response = await account.get(f"/api/v1/chat/{task_id}/progress", query_string=query)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return parse_sse(await response.get_data(as_text=True))


async def ask(account, message: str, mode: str = "auto", **extra: Any) -> dict[str, Any]:
    response = await account.post("/api/v1/chat/stream", json={"message": message, "mode": mode, **extra})
    assert response.status_code == 202, await response.get_data(as_text=True)
    return await response.get_json()


async def wait_status(account, task_id: str, statuses: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = await (await account.get(f"/api/v1/chat/{task_id}")).get_json()
        if task["status"] in statuses:
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} is {task['status']}, not {statuses}, after {timeout}s")


async def bring_own_model(account, base_url: str, api_key: str = "sk-test") -> None:
    """The account's own OpenAI-compatible model (`fake-model` at `base_url`), saved in its model settings."""
    saved = await account.put(
        "/api/v1/settings/models",
        json={"provider": "openai_compatible", "base_url": base_url, "chat_model": "fake-model", "api_key": api_key},
    )
    assert saved.status_code == 200, await saved.get_data(as_text=True)

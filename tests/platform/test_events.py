"""The event log over Redis Streams."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.platform.errors import ValidationFailed
from switchboard.platform.events import parse_last_id


async def test_events_are_read_in_order_after_an_id(app, clean):
    events = app.extensions["runtime"].events
    written = [await events.append("t:1", "step_started", f"step {i}", step=i) for i in range(5)]
    assert [e.id for e in await events.read_all("t:1")] == [e.id for e in written]
    after_two = await events.read("t:1", written[1].id)
    assert [e.payload["step"] for e in after_two] == [2, 3, 4]
    assert after_two[0].as_json()["event_id"] == written[2].id
    assert after_two[0].payload["task_id"] == "1"


async def test_blocking_read_wakes_on_append(app, clean):
    events = app.extensions["runtime"].events
    first = await events.append("t:2", "task_started")

    async def later() -> None:
        await asyncio.sleep(0.1)
        await events.append("t:2", "complete", "done")

    writer = asyncio.create_task(later())
    # a read that blocks far longer than the test may run: it returns only because the append woke it
    batch = await events.read("t:2", first.id, block_ms=600_000)
    await writer
    assert [e.update_type for e in batch] == ["complete"]
    assert batch[0].terminal


async def test_blocking_read_times_out_empty(app, clean):
    events = app.extensions["runtime"].events
    last = await events.append("t:3", "task_started")
    assert await events.read("t:3", last.id, block_ms=50) == []


async def test_terminal_event_sets_retention(app, clean, settings):
    runtime = app.extensions["runtime"]
    await runtime.events.append("t:4", "task_started")
    assert await runtime.redis.ttl("sb:events:t:4") > settings.event_retention_seconds
    await runtime.events.append("t:4", "complete")
    ttl = await runtime.redis.ttl("sb:events:t:4")
    assert 0 < ttl <= settings.event_retention_seconds


@pytest.mark.parametrize("bad", ["abc", "1-", "-1", "1-2-3", "1 2"])
def test_malformed_last_id_is_rejected(bad):
    with pytest.raises(ValidationFailed):
        parse_last_id(bad)


def test_missing_last_id_means_from_the_start():
    assert parse_last_id(None) is None and parse_last_id("") is None
    assert parse_last_id("1712-0") == "1712-0"


async def follow_all(events, stream: str, after: str, pause: float = 0.0) -> list[str]:
    """What a client following `stream` after `after` receives, until the terminal event."""
    received: list[str] = []
    while True:
        batch = await events.read(stream, after, block_ms=2000)
        received += [e.payload["message"] for e in batch]
        if batch and batch[-1].terminal:
            return received
        if batch:
            after = batch[-1].id
        await asyncio.sleep(pause)  # a client busy writing its last batch while the next events come


@pytest.mark.parametrize("count", [40, 600])  # 600: more than the reader keeps of a stream, so some come from Redis
async def test_followers_that_fall_behind_get_exactly_the_rest_in_order(app, clean, count):
    events = app.extensions["runtime"].events
    first = await events.append("t:5", "task_started", "start")
    followers = [
        asyncio.create_task(follow_all(events, "t:5", first.id, pause=pause)) for pause in (0.0, 0.0, 0.01, 0.2)
    ]
    await asyncio.sleep(0.05)
    for i in range(count):
        await events.append_many("t:5", [("text_delta", f"m{i}.{j}", {}) for j in range(3)])
        if i % 10 == 0:
            await asyncio.sleep(0.005)
    await events.append("t:5", "complete", "end")
    expected = [f"m{i}.{j}" for i in range(count) for j in range(3)] + ["end"]
    for received in await asyncio.gather(*followers):
        assert received == expected

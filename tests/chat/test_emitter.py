"""A task's events reach its stream in the order they were emitted; fast steps and text cost few appends."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.chat.emitter import Emitter
from switchboard.chat.service import task_stream

WORDS = [f"word{i} " for i in range(60)]


def _emitter(app, name: str) -> Emitter:
    return Emitter(app.extensions["runtime"].events, task_stream(name), task=None)  # type: ignore[arg-type]


async def test_text_faster_than_its_appends_goes_out_in_few_events_in_order(app, clean):
    emit = _emitter(app, "fast")
    await emit("agent_started", "Writing")
    for word in WORDS:  # produced with no pause, like the offline responder
        await emit("text_delta", word, agent="synthesiser")
    await emit("agent_completed", "Done")
    await emit.flush()
    stored = await app.extensions["runtime"].events.read_all(task_stream("fast"))
    kinds = [e.update_type for e in stored]
    assert kinds[0] == "agent_started" and kinds[-1] == "agent_completed"
    deltas = [e for e in stored if e.update_type == "text_delta"]
    assert "".join(e.payload["message"] for e in deltas) == "".join(WORDS), "every word, once, in order"
    assert len(deltas) < 5, f"{len(deltas)} events for text produced at once"
    assert all(e.payload["agent"] == "synthesiser" for e in deltas)


async def test_text_at_a_models_pace_goes_out_token_by_token(app, clean):
    emit = _emitter(app, "paced")
    for word in WORDS[:8]:
        await emit("text_delta", word)
        await asyncio.sleep(0.02)  # ~50 tokens/s
    await emit.flush()
    stored = await app.extensions["runtime"].events.read_all(task_stream("paced"))
    assert [e.payload["message"] for e in stored] == WORDS[:8]


async def test_text_of_another_step_is_not_merged(app, clean):
    emit = _emitter(app, "steps")
    await emit("text_delta", "first ", data={"step": "1"})
    await emit("text_delta", "second ", data={"step": "2"})
    await emit("text_delta", "third ", data={"step": "2"})
    await emit.flush()
    stored = await app.extensions["runtime"].events.read_all(task_stream("steps"))
    by_step = [(e.payload["data"]["step"], e.payload["message"]) for e in stored]
    assert "".join(m for s, m in by_step if s == "1") == "first "
    assert "".join(m for s, m in by_step if s == "2") == "second third "
    assert [s for s, _ in by_step] == sorted(s for s, _ in by_step)


async def test_a_failed_append_fails_the_next_emit(app, clean, monkeypatch):
    emit = _emitter(app, "broken")
    events = app.extensions["runtime"].events

    async def down(*args, **kwargs):
        raise ConnectionError("event log down")

    monkeypatch.setattr(events, "append_many", down)
    await emit("text_delta", "lost ")
    with pytest.raises(ConnectionError):
        await emit.flush()


async def test_steps_emitted_during_an_append_go_out_together_in_order_and_the_end_waits(app, clean, monkeypatch):
    emit = _emitter(app, "steps-at-once")
    events = app.extensions["runtime"].events
    appends: list[list[str]] = []
    append_many = events.append_many

    async def counted(stream, entries):
        appends.append([update_type for update_type, _, _ in entries])
        return await append_many(stream, entries)

    monkeypatch.setattr(events, "append_many", counted)
    kinds = ["task_started", "agent_started", "tool_started", "tool_completed", "agent_completed"]
    for kind in kinds:  # no pause between the steps
        await emit(kind, kind)
    await emit("complete", "Answer ready")  # returns once it is in the stream
    stored = await events.read_all(task_stream("steps-at-once"))
    assert [e.update_type for e in stored] == [*kinds, "complete"]
    assert appends == [[*kinds, "complete"]], "one round trip for steps that came at once"
    assert len({e.payload["timestamp"] for e in stored}) == 1

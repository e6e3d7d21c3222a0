"""A task's events reach its stream in the order they were emitted, each once; a failed append is not lost silently.

How few events and appends they cost is measured in bench/pacing.py (it depends on the machine's pace).
"""

from __future__ import annotations

import pytest

from switchboard.chat.emitter import Emitter
from switchboard.chat.service import task_stream
from tests.support.doubles import RecordingEventLog

WORDS = [f"word{i} " for i in range(60)]


def _emitter(app, name: str) -> Emitter:
    return Emitter(app.extensions["runtime"].events, task_stream(name), task=None)  # type: ignore[arg-type]


async def test_text_produced_at_once_reaches_the_stream_whole_in_order(app, clean):
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
    assert all(e.payload["agent"] == "synthesiser" for e in deltas)


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


class DownEventLog(RecordingEventLog):
    """An event log whose server is gone."""

    async def append_many(self, stream, entries, *, audience=None):  # type: ignore[no-untyped-def]
        raise ConnectionError("event log down")


async def test_a_failed_append_fails_the_next_flush():
    emit = Emitter(DownEventLog(), task_stream("broken"), task=None)  # type: ignore[arg-type]
    await emit("text_delta", "lost ")
    with pytest.raises(ConnectionError):
        await emit.flush()


async def test_the_terminal_event_returns_once_every_step_before_it_is_in_the_stream(app, clean):
    emit = _emitter(app, "steps-at-once")
    kinds = ["task_started", "agent_started", "tool_started", "tool_completed", "agent_completed"]
    for kind in kinds:  # no pause between the steps
        await emit(kind, kind)
    await emit("complete", "Answer ready")  # no flush: the terminal event waits by itself
    stored = await app.extensions["runtime"].events.read_all(task_stream("steps-at-once"))
    assert [e.update_type for e in stored] == [*kinds, "complete"]

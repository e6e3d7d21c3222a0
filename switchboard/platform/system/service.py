"""System health and self-checks."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from switchboard import __version__
from switchboard.platform import db
from switchboard.platform.errors import NotFound
from switchboard.platform.events import Event, EventLog, ending
from switchboard.platform.ids import parse_id
from switchboard.platform.queue import Queue
from switchboard.platform.runtime import Runtime
from switchboard.platform.system.models import SystemCheck


async def _answers(probe: Callable[[], Awaitable[Any]]) -> bool:
    try:
        await probe()
    except Exception:
        return False
    return True


async def health(rt: Runtime) -> dict[str, Any]:
    """Whether each dependency answers; `status` is `degraded` when any does not."""
    report: dict[str, Any] = {
        "db": await _answers(db.ping_database),
        "queue": await _answers(rt.queue.ping),
        "events": await _answers(rt.events.ping),
    }
    report["status"] = "ok" if all(report.values()) else "degraded"
    report["version"] = __version__
    return report


async def readiness(rt: Runtime) -> dict[str, Any]:
    """Health, plus whether every migration is applied."""
    report = await health(rt)
    try:
        pending = await db.pending_migrations(rt.db_config)
    except Exception:
        pending = ["unknown"]
    report["pending_migrations"] = pending
    report["ready"] = report["status"] == "ok" and not pending
    return report


def check_stream(check_id: uuid.UUID | str) -> str:
    """Event stream name of a self-check."""
    return f"system_check:{check_id}"


def ended_events(check: SystemCheck) -> list[Event] | None:
    """A finished self-check's verdict, told once its stream has expired (None while it runs)."""
    if check.status not in ("completed", "failed"):
        return None
    at, fields = check.finished_at or check.created_at, {"task_id": str(check.id), "data": check.results}
    if check.error:
        return [ending("error", at, message=check.error, **fields)]
    return [ending("complete", at, message="Every dependency answers", **fields)]


async def request_check(queue: Queue) -> SystemCheck:
    """Record a self-check and hand it to a worker."""
    check = await SystemCheck.create()
    await queue.enqueue("run_system_check", str(check.id), job_id=f"system_check:{check.id}")
    return check


async def get_check(check_id: str) -> SystemCheck:
    """The self-check, or NotFound."""
    check = await SystemCheck.get_or_none(id=parse_id(check_id, "Self-check"))
    if check is None:
        raise NotFound("Self-check not found")
    return check


Probe = Callable[[Runtime], Awaitable[None]]


async def _probe_database(rt: Runtime) -> None:
    await db.ping_database()


async def _probe_storage(rt: Runtime) -> None:
    key = f"selfcheck/{uuid.uuid4().hex}"

    async def body() -> AsyncIterator[bytes]:
        yield b"ok"

    await rt.storage.put_stream(key, body())
    try:
        if await rt.storage.read(key) != b"ok":
            raise RuntimeError("storage returned other bytes than were written")
    finally:
        await rt.storage.delete(key)


async def _probe_events(rt: Runtime) -> None:
    await rt.events.ping()


async def _probe_queue(rt: Runtime) -> None:
    await rt.queue.ping()


PROBES: list[tuple[str, Probe]] = [
    ("database", _probe_database),
    ("storage", _probe_storage),
    ("events", _probe_events),
    ("queue", _probe_queue),
]


async def run_check(rt: Runtime, events: EventLog, check_id: str) -> None:
    """Run every probe, streaming a started/completed event per probe, then the verdict."""
    check = await SystemCheck.get_or_none(id=check_id)
    if check is None or check.status in ("completed", "failed"):
        return
    stream = check_stream(check.id)
    check.status = "processing"
    await check.save(update_fields=["status"])
    await events.append(stream, "task_started", "Self-check started")
    results: dict[str, Any] = {}
    for name, probe in PROBES:
        await events.append(stream, "step_started", f"Checking {name}", step=name)
        started = time.perf_counter()
        try:
            await probe(rt)
            outcome: dict[str, Any] = {"ok": True}
        except Exception as exc:
            outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        outcome["ms"] = round((time.perf_counter() - started) * 1000, 2)
        results[name] = outcome
        verdict = "answers" if outcome["ok"] else "failed"
        await events.append(stream, "step_completed", f"{name} {verdict}", step=name, data=outcome)
    failed = [name for name, outcome in results.items() if not outcome["ok"]]
    check.results = results
    check.status = "failed" if failed else "completed"
    check.error = f"failed: {', '.join(failed)}" if failed else None
    check.finished_at = datetime.now(UTC)
    await check.save()
    if check.error:
        await events.append(stream, "error", check.error, data=results)
    else:
        await events.append(stream, "complete", "Every dependency answers", data=results)

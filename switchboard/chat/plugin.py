"""What the chat context plugs into the app and the worker (models: `switchboard.chat.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint

from switchboard.platform.runtime import Runtime


def blueprints() -> list[Blueprint]:
    """Chat's blueprints."""
    from switchboard.chat.routes import chat

    return [chat]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """Chat's arq jobs."""
    from switchboard.chat import tasks

    return [*tasks.JOBS]


def cron_jobs() -> list[CronJob]:
    """Chat's periodic jobs."""
    from switchboard.chat import tasks

    return [*tasks.CRON]


def agents(runtime: Runtime) -> list[Any]:
    """The memory agent."""
    from switchboard.chat.tools import memory_agent

    return [memory_agent()]


async def open_resources(runtime: Runtime, **_: Any) -> None:
    """Let the approvals inbox resume chat tasks when their tool confirmations are decided."""
    from switchboard.chat import confirmations

    confirmations.register()


async def close_resources(runtime: Runtime) -> None:
    """Stop listening for cancels (a process that ran chat tasks started it)."""
    from switchboard.chat.cancels import CancelWatch

    watch = runtime.release(CancelWatch)
    if watch is not None:
        await watch.close()

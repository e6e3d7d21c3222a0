"""What the integrations context plugs into the app and the worker (models: `switchboard.integrations.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from arq.cron import CronJob
from quart import Blueprint

from switchboard.platform.runtime import Runtime

if TYPE_CHECKING:
    from switchboard.agents.registry import Agent


def blueprints() -> list[Blueprint]:
    """The catalog (`/connectors`), connections (`/providers/…`) and `/integrations/…`."""
    from switchboard.integrations.routes import catalog, integration_settings, providers

    return [catalog, providers, integration_settings]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """No queued jobs: tokens are refreshed when they are about to be used."""
    return []


def cron_jobs() -> list[CronJob]:
    """No periodic jobs."""
    return []


async def open_resources(runtime: Runtime, **_: Any) -> None:
    """The one outbound client and the credentials box of this process."""
    from switchboard.integrations.service import Integrations

    runtime.provide(Integrations.open(runtime.settings))


async def close_resources(runtime: Runtime) -> None:
    """Close the outbound client."""
    from switchboard.integrations.service import Integrations

    found = runtime.release(Integrations)
    if found is not None:
        await found.outbound.close()


def agents(runtime: Runtime) -> list[Agent]:
    """One agent per connector."""
    from switchboard.integrations.tools import integration_agents

    return integration_agents(runtime)

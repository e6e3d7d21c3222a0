"""What the agents context plugs into the app and the worker (models: `switchboard.agents.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint

from switchboard.agents.registry import Agent
from switchboard.platform.runtime import Runtime


def blueprints() -> list[Blueprint]:
    """The agents context's blueprints."""
    from switchboard.agents.providers_routes import model_providers
    from switchboard.agents.routes import admin_agents, agents, authz
    from switchboard.agents.settings_routes import model_settings

    return [agents, admin_agents, authz, model_settings, model_providers]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """The agents context's arq jobs (none yet)."""
    return []


def cron_jobs() -> list[CronJob]:
    """The agents context's periodic jobs (none yet)."""
    return []


def agents(runtime: Runtime) -> list[Agent]:
    """The built-in agents: `calculator`, and `http` when HTTP_AGENT_ALLOWED names where it may go."""
    from switchboard.agents.builtin import HttpSettings, builtin_agents

    settings = runtime.settings
    http = None
    if settings.http_agent_allowed:
        http = HttpSettings(
            allowed=tuple(settings.http_agent_allowed),
            private_networks=tuple(settings.http_agent_private_networks),
        )
    return builtin_agents(http)

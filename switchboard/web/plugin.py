"""What the web UI plugs into the app: its blueprint. It has no models, jobs or periodic jobs."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint

# no Tortoise app, no migrations package
HAS_MODELS = False


def blueprints() -> list[Blueprint]:
    """The web UI's blueprint (pages and static assets, outside /api/v1)."""
    from switchboard.web.routes import web

    return [web]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """None: the UI only calls the API."""
    return []


def cron_jobs() -> list[CronJob]:
    """None."""
    return []

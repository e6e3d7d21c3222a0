"""What the ingestion context plugs into the app and the worker (models: `switchboard.ingestion.models`)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from arq.cron import CronJob
from quart import Blueprint

from switchboard.agents import Agent
from switchboard.ingestion.embedding.local import Embedder
from switchboard.platform.runtime import Runtime

UPLOAD_PATHS = ("/api/v1/documents/upload", "/api/v1/documents/admin/upload")


def blueprints() -> list[Blueprint]:
    """The documents blueprint."""
    from switchboard.ingestion.routes import documents

    return [documents]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """The ingestion job."""
    from switchboard.ingestion import tasks

    return [*tasks.JOBS]


def cron_jobs() -> list[CronJob]:
    """The ingestion watchdog."""
    from switchboard.ingestion import tasks

    return [*tasks.CRON]


async def open_resources(runtime: Runtime, *, embedder: Embedder | None = None) -> None:
    """One embedder (the given one, else the settings'), its query cache and the pipeline per process."""
    from switchboard.ingestion.resources import open_embedder

    await open_embedder(runtime, embedder)


async def warm_up(runtime: Runtime) -> None:
    """Load the embedding model now (a worker's start-up), not in the first job that needs it."""
    from switchboard.ingestion.resources import warm_embedder

    await warm_embedder(runtime)


async def close_resources(runtime: Runtime) -> None:
    """Stop the embedder's thread."""
    from switchboard.ingestion.resources import close_embedder

    await close_embedder(runtime)


def agents(runtime: Runtime) -> list[Agent]:
    """The knowledge agent, searching this context's documents."""
    from switchboard.ingestion.tools import knowledge_agent

    return [knowledge_agent(runtime)]

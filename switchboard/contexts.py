"""The bounded contexts that make up Switchboard, plugged in at one place.

`platform` knows no feature. Each context has a `plugin` module that names its Tortoise app
(label + models module, with its own migrations package `migrations/<label>/`), its blueprints,
its arq jobs and its periodic jobs; the app, the worker and the migrations read them from here.
A context without models (the web UI) says so with `HAS_MODELS = False` in its plugin module.

A plugin may also offer `open_resources(runtime, *, embedder=None)` (provide its per-process
objects on the runtime), `warm_up(runtime)`, `close_resources(runtime)` and `agents(runtime)`.
`open_runtime` runs them and then builds the one agent `Registry` of the process; no feature
imports this module.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from arq.cron import CronJob
from quart import Blueprint

from switchboard.agents import Agent, ChatModelFactory, ChatModels, Registry, choose_chat_model
from switchboard.config import Settings
from switchboard.ingestion import Embedder
from switchboard.platform.events import EventLog
from switchboard.platform.ratelimit import RateLimiter
from switchboard.platform.retention import RetentionPlan
from switchboard.platform.runtime import Runtime
from switchboard.platform.storage import Storage

log = logging.getLogger(__name__)

PLUGINS: tuple[str, ...] = (
    "switchboard.platform.plugin",
    "switchboard.agents.plugin",
    "switchboard.approvals.plugin",
    "switchboard.ingestion.plugin",
    "switchboard.chat.plugin",
    "switchboard.workflows.plugin",
    "switchboard.integrations.plugin",
    "switchboard.web.plugin",
    "switchboard.jobs.plugin",
)


def _plugins() -> list[ModuleType]:
    return [importlib.import_module(name) for name in PLUGINS]


def _model_apps() -> dict[str, str]:
    apps: dict[str, str] = {}
    for name in PLUGINS:
        if not getattr(importlib.import_module(name), "HAS_MODELS", True):
            continue
        label, module = name.split(".")[1], name.rsplit(".", 1)[0] + ".models"
        apps[label] = module
    return apps


# Tortoise app label -> models module, one per context.
MODEL_APPS: dict[str, str] = _model_apps()


def blueprints() -> list[Blueprint]:
    """Every blueprint: the API's and the web UI's."""
    return [bp for plugin in _plugins() for bp in plugin.blueprints()]


def jobs() -> list[Callable[..., Coroutine[Any, Any, Any]]]:
    """Every arq job function."""
    return [job for plugin in _plugins() for job in plugin.jobs()]


@dataclass(frozen=True)
class Seams:
    """The implementations a process runs on; None is production's default for each.

    `create_app` and `build_worker` take them, so a test or a deployment chooses one by passing
    it in (an in-memory storage, a recording event log, a scripted chat model), never by patching.
    """

    events: EventLog | None = None
    storage: Storage | None = None
    limiter: RateLimiter | None = None
    chat_model_factory: ChatModelFactory | None = None
    embedder: Embedder | None = None


async def open_runtime(settings: Settings, seams: Seams | None = None) -> Runtime:
    """The process's runtime on these seams, with every context's per-process objects and one agent registry."""
    seams = seams or Seams()
    runtime = await Runtime.open(
        settings, MODEL_APPS, events=seams.events, storage=seams.storage, limiter=seams.limiter
    )
    try:
        await open_resources(runtime, seams)
    except BaseException:
        await runtime.close()
        raise
    return runtime


async def close_runtime(runtime: Runtime) -> None:
    """Close what `open_runtime` opened."""
    await close_resources(runtime)
    await runtime.close()


async def open_resources(runtime: Runtime, seams: Seams | None = None) -> None:
    """Let each context open its per-process objects into the runtime, then build the agent registry.

    The registry is built here, once per process, after every context is open: its tools use them.
    """
    seams = seams or Seams()
    for plugin in _plugins():
        if hasattr(plugin, "open_resources"):
            await plugin.open_resources(runtime, embedder=seams.embedder)
    runtime.provide(ChatModels(seams.chat_model_factory or choose_chat_model))
    runtime.provide(build_registry(runtime))
    runtime.provide(
        RetentionPlan({name: prune for p in _plugins() if hasattr(p, "pruners") for name, prune in p.pruners().items()})
    )


async def warm_up(runtime: Runtime) -> None:
    """Let each context load what its jobs need before a worker takes any (models, caches).

    Never raises: a context whose warm-up fails is logged and loads on first use instead (its jobs
    fail with their own error if it cannot), and the others still warm up.
    """
    for plugin in _plugins():
        if hasattr(plugin, "warm_up"):
            try:
                await plugin.warm_up(runtime)
            except Exception:
                log.exception("warming up %s failed; it loads when first needed", plugin.__name__)


async def close_resources(runtime: Runtime) -> None:
    """Close what `open_resources` opened, in reverse order."""
    for plugin in reversed(_plugins()):
        if hasattr(plugin, "close_resources"):
            await plugin.close_resources(runtime)


def upload_paths() -> tuple[str, ...]:
    """Paths that stream large bodies (uploads) rather than take JSON."""
    return tuple(path for plugin in _plugins() for path in getattr(plugin, "UPLOAD_PATHS", ()))


def cron_jobs() -> list[CronJob]:
    """Every periodic job."""
    return [job for plugin in _plugins() for job in plugin.cron_jobs()]


def agents(runtime: Runtime) -> list[Agent]:
    """Every agent the contexts offer (a plugin's optional `agents(runtime)`), then those of AGENT_PLUGINS."""
    found = [agent for plugin in _plugins() if hasattr(plugin, "agents") for agent in plugin.agents(runtime)]
    for path in runtime.settings.agent_plugins:
        module, _, function = path.partition(":")
        found.extend(getattr(importlib.import_module(module), function or "agents")(runtime))
    return found


def build_registry(runtime: Runtime) -> Registry:
    """One `Registry` of every context's agents, built once per process at start-up."""
    return Registry(agents(runtime))

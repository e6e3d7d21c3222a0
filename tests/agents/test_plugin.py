"""The registry is built once per process from every context's agents."""

from __future__ import annotations

from types import SimpleNamespace

from switchboard.agents import Registry
from switchboard.agents.plugin import agents


async def test_the_app_holds_one_registry_with_the_builtin_agents(app):
    registry = app.extensions["runtime"].resource(Registry)
    assert isinstance(registry, Registry)
    assert "calculator" in registry
    assert "http" not in registry  # no destinations configured, so no http agent


def test_the_http_agent_comes_with_configured_destinations(settings):
    configured = settings.model_copy(update={"http_agent_allowed": ["api.example.com"]})
    names = [a.name for a in agents(SimpleNamespace(settings=configured))]  # type: ignore[arg-type]
    assert names == ["calculator", "http"]

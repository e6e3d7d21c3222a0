"""Agents that ship with Switchboard and need no database: `calculator` and `http`."""

from switchboard.agents.builtin.calculator import calculator_agent, evaluate
from switchboard.agents.builtin.http_requests import HttpSettings, fetch, http_agent
from switchboard.agents.builtin.network import Destinations
from switchboard.agents.registry import Agent


def builtin_agents(http: HttpSettings | None = None) -> list[Agent]:
    """The built-in agents; the http agent only when an admin configured where it may go."""
    agents = [calculator_agent()]
    if http is not None:
        agents.append(http_agent(http))
    return agents


__all__ = ["Destinations", "HttpSettings", "builtin_agents", "calculator_agent", "evaluate", "fetch", "http_agent"]

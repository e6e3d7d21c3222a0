"""Agents and their tools, and the `Registry` that knows them all.

An agent is a named bundle of tools with a description the planner reads. A tool has a
name, a pydantic model of its arguments (which gives the JSON-schema the model sees), an
async function and a kind: `read` or `write`. Tool names are unique across the registry,
because the model calls a tool by its name alone.

A `Registry` is built at start-up and passed to whoever needs it; there is no global one.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import pydantic

from switchboard.agents.errors import DuplicateName, InvalidToolArguments, UnknownAgent, UnknownTool
from switchboard.agents.providers.base import ToolSpec

ToolKind = Literal["read", "write"]
ArgsT = TypeVar("ArgsT", bound=pydantic.BaseModel)

# Also the rule for function names in the Chat Completions API, so a name always reaches the model intact.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CONFIRM_PREFIXES = ("send_", "create_", "update_", "delete_", "archive_")


@dataclass(frozen=True)
class CallContext:
    """Who is calling a tool and on behalf of which task; services a tool needs travel in `resources`."""

    # The acting `Principal`; typed loosely so this module does not depend on the identity context.
    principal: Any = None
    task_id: str | None = None
    correlation_id: str | None = None
    resources: Mapping[str, Any] = field(default_factory=dict)
    # The same on every attempt of one workflow step: a tool keys its outside effects by it (None in chat).
    idempotency_key: str | None = None


@functools.cache
def _json_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


@dataclass(frozen=True)
class Tool(Generic[ArgsT]):
    """One thing an agent can do."""

    name: str
    description: str
    args_model: type[ArgsT]
    function: Callable[[CallContext, ArgsT], Awaitable[Any]]
    kind: ToolKind = "read"
    # A search: takes a `query` argument and returns `FoundPassages` (the offline responder calls it).
    searches: bool = False

    def __post_init__(self) -> None:
        _check_name("tool", self.name)
        if self.kind not in ("read", "write"):
            raise ValueError(f"tool {self.name!r}: kind must be 'read' or 'write', not {self.kind!r}")

    def parameters(self) -> dict[str, Any]:
        """The JSON-schema of the tool's arguments (made once per model: every model turn lists the tools)."""
        return copy.deepcopy(_json_schema(self.args_model))

    def spec(self) -> ToolSpec:
        """What a model is told about this tool."""
        return ToolSpec(
            name=self.name, description=self.description, parameters=self.parameters(), searches=self.searches
        )

    def parse_arguments(self, arguments: str | Mapping[str, Any] | None) -> ArgsT:
        """The arguments, validated; `InvalidToolArguments` lists what is wrong."""
        try:
            if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
                return self.args_model.model_validate({})
            if isinstance(arguments, str):
                return self.args_model.model_validate_json(arguments)
            return self.args_model.model_validate(dict(arguments))
        except pydantic.ValidationError as exc:
            details = [
                {"field": ".".join(str(p) for p in err["loc"]) or "arguments", "message": err["msg"]}
                for err in exc.errors(include_url=False, include_input=False)
            ]
            raise InvalidToolArguments(f"Invalid arguments for tool {self.name}", details=details) from exc

    async def call(self, context: CallContext, arguments: ArgsT) -> Any:
        """Run the tool. Callers authorize first: see `switchboard.agents.authorize_tool_call`."""
        return await self.function(context, arguments)


def needs_confirmation_by_default(tool: Tool[Any]) -> bool:
    """True for write tools and tools whose name says they change something (send_, create_, ...)."""
    return tool.kind == "write" or tool.name.startswith(_CONFIRM_PREFIXES)


@dataclass(frozen=True)
class Agent:
    """A named bundle of tools, with a description the planner reads."""

    name: str
    description: str
    tools: tuple[Tool[Any], ...] = ()

    def __post_init__(self) -> None:
        _check_name("agent", self.name)
        names = [t.name for t in self.tools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise DuplicateName(f"Agent {self.name} has more than one tool named {', '.join(duplicates)}")

    def tool(self, name: str) -> Tool[Any]:
        """The agent's tool of that name; `UnknownTool` if it has none."""
        for tool in self.tools:
            if tool.name == name:
                return tool
        raise UnknownTool(f"Agent {self.name} has no tool named {name}")

    def has_tool(self, tool: Tool[Any]) -> bool:
        """True when `tool` is one of this agent's tools."""
        return any(t is tool or t == tool for t in self.tools)


class Registry:
    """Every agent the platform offers, and a way to find a tool's agent by the tool's name."""

    def __init__(self, agents: Iterable[Agent] = ()) -> None:
        self._agents: dict[str, Agent] = {}
        self._tools: dict[str, tuple[Agent, Tool[Any]]] = {}
        for agent in agents:
            self.register(agent)

    def register(self, agent: Agent) -> Agent:
        """Add an agent; `DuplicateName` if it or one of its tools is already known."""
        if agent.name in self._agents:
            raise DuplicateName(f"An agent named {agent.name} is already registered")
        for tool in agent.tools:
            if tool.name in self._tools:
                owner = self._tools[tool.name][0].name
                raise DuplicateName(f"Agent {owner} already has a tool named {tool.name}")
        self._agents[agent.name] = agent
        for tool in agent.tools:
            self._tools[tool.name] = (agent, tool)
        return agent

    def agent(self, name: str) -> Agent:
        """The agent of that name; `UnknownAgent` if none."""
        try:
            return self._agents[name]
        except KeyError:
            raise UnknownAgent(f"No agent named {name}") from None

    def tool(self, name: str) -> tuple[Agent, Tool[Any]]:
        """The tool of that name and the agent it belongs to; `UnknownTool` if none."""
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownTool(f"No tool named {name}") from None

    def agents(self) -> list[Agent]:
        """Every agent, sorted by name."""
        return [self._agents[n] for n in sorted(self._agents)]

    def __contains__(self, name: object) -> bool:
        return name in self._agents

    def __iter__(self) -> Iterator[Agent]:
        return iter(self.agents())

    def __len__(self) -> int:
        return len(self._agents)


def _check_name(what: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"{what} name {name!r} must be lowercase letters, digits and _, starting with a letter")

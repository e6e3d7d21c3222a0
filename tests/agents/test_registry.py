"""The registry: agents and tools by name, their schemas, and which tools ask for confirmation by default."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from switchboard.agents import Agent, CallContext, Registry, Tool, needs_confirmation_by_default
from switchboard.agents.builtin import builtin_agents, calculator_agent
from switchboard.agents.errors import DuplicateName, InvalidToolArguments, UnknownAgent, UnknownTool


class NoteArgs(pydantic.BaseModel):
    title: str = pydantic.Field(description="The note's title")
    pinned: bool = False


async def _save(context: CallContext, args: NoteArgs) -> dict[str, Any]:
    return {"saved": args.title, "by": context.task_id}


def note_tool(name: str = "save_note", kind: Any = "read") -> Tool[NoteArgs]:
    return Tool(name, "Save a note", NoteArgs, _save, kind)


def test_register_and_look_up() -> None:
    notes = Agent("notes", "Keeps notes", (note_tool(),))
    registry = Registry([calculator_agent()])
    registry.register(notes)
    assert [a.name for a in registry.agents()] == ["calculator", "notes"]
    assert registry.agent("notes") is notes
    agent, tool = registry.tool("save_note")
    assert agent is notes and tool.name == "save_note"
    assert "notes" in registry and len(registry) == 2


def test_unknown_names_are_not_found() -> None:
    registry = Registry()
    with pytest.raises(UnknownAgent) as agent_error:
        registry.agent("nope")
    with pytest.raises(UnknownTool):
        registry.tool("nope")
    assert agent_error.value.status == 404


def test_names_are_unique() -> None:
    registry = Registry([Agent("notes", "Keeps notes", (note_tool(),))])
    with pytest.raises(DuplicateName):
        registry.register(Agent("notes", "Again", ()))
    with pytest.raises(DuplicateName, match="save_note"):
        registry.register(Agent("other", "Also saves notes", (note_tool(),)))
    with pytest.raises(DuplicateName):
        Agent("twice", "Two tools of one name", (note_tool(), note_tool()))


@pytest.mark.parametrize("name", ["Calculator", "1st", "with-dash", "with.dot", "", "x" * 65])
def test_names_must_reach_the_model_intact(name: str) -> None:
    with pytest.raises(ValueError, match="lowercase"):
        Agent(name, "bad name")


def test_tool_spec_carries_the_json_schema_of_its_arguments() -> None:
    spec = note_tool().spec()
    assert spec.name == "save_note"
    assert spec.parameters["type"] == "object"
    assert spec.parameters["required"] == ["title"]
    assert spec.parameters["properties"]["title"]["description"] == "The note's title"


async def test_tool_parses_arguments_and_runs() -> None:
    tool = note_tool()
    args = tool.parse_arguments('{"title": "Groceries"}')
    assert await tool.call(CallContext(task_id="t1"), args) == {"saved": "Groceries", "by": "t1"}
    assert tool.parse_arguments({"title": "x", "pinned": True}).pinned is True
    with pytest.raises(InvalidToolArguments) as error:
        tool.parse_arguments('{"pinned": "maybe"}')
    fields = {d["field"] for d in error.value.details}
    assert fields == {"title", "pinned"}
    with pytest.raises(InvalidToolArguments):
        tool.parse_arguments("{not json")


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("save_note", "read", False),
        ("save_note", "write", True),
        ("send_email", "read", True),
        ("create_ticket", "read", True),
        ("update_record", "read", True),
        ("delete_file", "read", True),
        ("archive_thread", "read", True),
        ("search_documents", "read", False),
        ("resend_invite", "read", False),
    ],
)
def test_needs_confirmation_by_default(name: str, kind: str, expected: bool) -> None:
    assert needs_confirmation_by_default(note_tool(name, kind)) is expected


def test_builtin_agents() -> None:
    assert [a.name for a in builtin_agents()] == ["calculator"]
    from switchboard.agents.builtin import HttpSettings

    agents = Registry(builtin_agents(HttpSettings(allowed=("api.example.com",))))
    assert [a.name for a in agents] == ["calculator", "http"]
    assert needs_confirmation_by_default(agents.tool("http_post")[1])
    assert not needs_confirmation_by_default(agents.tool("http_get")[1])

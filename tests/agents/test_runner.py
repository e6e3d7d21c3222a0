"""The agent loop against the fake OpenAI server: only allowed tools are offered, the server decides every call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pydantic
import pytest

from switchboard.agents import Agent, CallContext, Registry, Tool, run_agents
from switchboard.agents.builtin import calculator_agent
from switchboard.agents.models import AgentPolicy, policy_scope
from switchboard.agents.providers import Message, OpenAIChatModel
from switchboard.agents.runner import messages_from_json, messages_to_json
from switchboard.platform.audit.models import AuditLog
from switchboard.platform.auth import Principal, principal_for
from tests.fakes.openai_server import FakeOpenAI, ScriptedToolCall, Turn


class MailArgs(pydantic.BaseModel):
    to: str = "someone@example.com"


class Mailbox:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.read = 0

    def agent(self) -> Agent:
        async def send_email(context: CallContext, args: MailArgs) -> str:
            self.sent.append(args.to)
            return f"sent to {args.to}"

        async def read_inbox(context: CallContext, args: MailArgs) -> str:
            self.read += 1
            return "3 unread"

        return Agent(
            "mail",
            "Reads and sends mail",
            (
                Tool("send_email", "Send an email", MailArgs, send_email, "write"),
                Tool("read_inbox", "Read the inbox", MailArgs, read_inbox),
            ),
        )


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def registry(mailbox: Mailbox) -> Registry:
    return Registry([calculator_agent(), mailbox.agent()])


@pytest.fixture
async def model(openai_server: FakeOpenAI) -> AsyncIterator[OpenAIChatModel]:
    chat_model = OpenAIChatModel(
        base_url=openai_server.base_url, api_key="sk-test", model="fake-model", timeout=5, max_retries=0
    )
    yield chat_model
    await chat_model.close()


@pytest.fixture
async def principal(signup) -> Principal:
    account = await signup()
    return await principal_for(uuid.UUID(account.user_id), auth_method="jwt", ip=None)


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    async def __call__(self, update_type: str, message: str, **fields: Any) -> None:
        self.seen.append((update_type, message, fields))

    def types(self) -> list[str]:
        return [t for t, _, _ in self.seen]


async def deny_for_org(principal: Principal, agent: str, tools: dict[str, str]) -> None:
    await AgentPolicy.create(
        tier="organization",
        scope=policy_scope("organization", principal.org_id),
        org_id=principal.org_id,
        agent=agent,
        tools=tools,
    )


def offered(request: dict[str, Any]) -> list[str]:
    return sorted(t["function"]["name"] for t in request.get("tools", []))


async def test_allowed_tool_runs_and_its_result_goes_back(openai_server, model, registry, principal):
    openai_server.script(Turn.call("calculate", {"expression": "6*7"}), Turn.reply("It is ", "42."))
    events = Events()
    outcome = await run_agents(model, registry, principal, [Message.user("6 times 7?")], on_event=events)
    assert outcome.status == "completed" and outcome.text == "It is 42."
    assert outcome.steps == 2 and outcome.usage.total_tokens > 0
    second = openai_server.chat_requests()[1]
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_0_calculate",
        "content": '{"expression": "6*7", "result": 42}',
    }
    assert events.types() == ["tool_started", "tool_completed", "text_delta", "text_delta"]
    assert events.seen[1][2]["tool"] == "calculate" and events.seen[1][2]["data"]["status"] == "completed"


async def test_denied_tool_is_not_offered_not_run_refused_and_audited(
    openai_server, model, registry, principal, mailbox
):
    await deny_for_org(principal, "mail", {"read_inbox": "deny"})
    # the model asks for the tool anyway (it was never offered): the server refuses it
    openai_server.script(Turn.call("read_inbox", {}), Turn.reply("I may not read your inbox."))
    events = Events()
    outcome = await run_agents(model, registry, principal, [Message.user("Any mail?")], on_event=events)
    assert outcome.status == "completed"
    assert mailbox.read == 0
    first, second = openai_server.chat_requests()
    assert offered(first) == ["calculate", "send_email"]
    refusal = second["messages"][-1]
    assert refusal["role"] == "tool" and refusal["content"].startswith("Refused")
    assert "organization" in refusal["content"]
    entry = await AuditLog.get(action="tool.denied", org_id=principal.org_id)
    assert entry.outcome == "denied" and entry.target_id == "read_inbox" and entry.actor_id == principal.user_id
    assert events.seen[0][0] == "tool_completed" and events.seen[0][2]["data"]["status"] == "denied"


async def test_denied_agent_offers_none_of_its_tools(openai_server, model, registry, principal):
    await AgentPolicy.create(
        tier="organization",
        scope=policy_scope("organization", principal.org_id),
        org_id=principal.org_id,
        agent="mail",
        access="deny",
    )
    await run_agents(model, registry, principal, [Message.user("hi")])
    assert offered(openai_server.last_chat_request()) == ["calculate"]


async def test_confirm_tool_pauses_without_running_then_resumes(openai_server, model, registry, principal, mailbox):
    openai_server.script(Turn.call("send_email", {"to": "boss@example.com"}, id="call_mail"))
    outcome = await run_agents(model, registry, principal, [Message.user("Mail the boss")])
    assert outcome.status == "needs_approval"
    (pending,) = outcome.pending
    assert (pending.call_id, pending.agent, pending.tool) == ("call_mail", "mail", "send_email")
    assert pending.arguments == {"to": "boss@example.com"}
    assert mailbox.sent == [] and len(openai_server.chat_requests()) == 1

    # the transcript survives storage, and an approval runs the call
    stored = messages_from_json(messages_to_json(outcome.messages))
    openai_server.script(Turn.reply("Done."))
    events = Events()
    resumed = await run_agents(model, registry, principal, stored, decisions={"call_mail": True}, on_event=events)
    assert resumed.status == "completed" and resumed.text == "Done."
    assert mailbox.sent == ["boss@example.com"]
    assert openai_server.last_chat_request()["messages"][-1]["content"] == "sent to boss@example.com"
    assert await AuditLog.filter(action="tool.called", target_id="send_email").count() == 1


async def test_rejected_call_is_refused_to_the_model(openai_server, model, registry, principal, mailbox):
    openai_server.script(Turn.call("send_email", {}, id="call_mail"))
    paused = await run_agents(model, registry, principal, [Message.user("Mail")])
    openai_server.script(Turn.reply("OK, not sent."))
    resumed = await run_agents(model, registry, principal, paused.messages, decisions={"call_mail": False})
    assert resumed.status == "completed" and mailbox.sent == []
    assert "did not approve" in openai_server.last_chat_request()["messages"][-1]["content"]
    assert await AuditLog.filter(action="tool.rejected").count() == 1


async def test_mixed_calls_run_refuse_and_park_in_one_turn(openai_server, model, registry, principal, mailbox):
    await deny_for_org(principal, "mail", {"read_inbox": "deny"})
    openai_server.script(
        Turn.calls(
            ScriptedToolCall("calculate", {"expression": "1+1"}, id="c1"),
            ScriptedToolCall("read_inbox", {}, id="c2"),
            ScriptedToolCall("send_email", {}, id="c3"),
        )
    )
    outcome = await run_agents(model, registry, principal, [Message.user("do it all")])
    assert outcome.status == "needs_approval" and [p.call_id for p in outcome.pending] == ["c3"]
    answered = {m.tool_call_id: m.content for m in outcome.messages if m.role == "tool"}
    assert '"result": 2' in answered["c1"] and answered["c2"].startswith("Refused") and "c3" not in answered
    assert mailbox.read == 0 and mailbox.sent == []


async def test_a_model_that_never_stops_is_cut_at_max_steps(openai_server, model, registry, principal):
    openai_server.default_turn = Turn.call("calculate", {"expression": "1"})
    outcome = await run_agents(model, registry, principal, [Message.user("loop")], max_steps=3)
    assert outcome.status == "max_steps" and outcome.steps == 3
    assert len(openai_server.chat_requests()) == 3


async def test_unknown_tool_and_tool_errors_are_news_for_the_model(openai_server, model, registry, principal):
    openai_server.script(
        Turn.calls(
            ScriptedToolCall("format_disk", {}, id="x1"),
            ScriptedToolCall("calculate", {"expression": "1/0"}, id="x2"),
        ),
        Turn.reply("Sorry."),
    )
    outcome = await run_agents(model, registry, principal, [Message.user("go")])
    assert outcome.status == "completed"
    answered = {m.tool_call_id: m.content for m in outcome.messages if m.role == "tool"}
    assert "no tool named format_disk" in answered["x1"]
    assert answered["x2"].startswith("Error (invalid_expression)")

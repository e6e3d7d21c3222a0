"""OpenAIChatModel against a fake OpenAI-compatible server, through the real `openai` SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from switchboard.agents import PolicySet, Registry, TierPolicy, usable_agents
from switchboard.agents.builtin import HttpSettings, builtin_agents
from switchboard.agents.errors import (
    ProviderAuthFailed,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnreachable,
)
from switchboard.agents.providers import (
    ChatEvent,
    ChatOptions,
    Completion,
    Message,
    OpenAIChatModel,
    TextDelta,
    ToolCallRequest,
    complete,
    validate,
)
from switchboard.platform.errors import IntegrationError
from tests.fakes.openai_server import FakeOpenAI, ScriptedToolCall, Turn, closed_port


@pytest.fixture
async def model(openai_server: FakeOpenAI) -> AsyncIterator[OpenAIChatModel]:
    chat_model = OpenAIChatModel(
        base_url=openai_server.base_url, api_key="sk-test", model="fake-model", timeout=5, max_retries=0
    )
    yield chat_model
    await chat_model.close()


async def collect(model: OpenAIChatModel, messages: list[Message], **kwargs: object) -> list[ChatEvent]:
    return [event async for event in model.stream(messages, **kwargs)]  # type: ignore[arg-type]


async def test_streamed_text_is_assembled(openai_server: FakeOpenAI, model: OpenAIChatModel) -> None:
    openai_server.script(Turn.reply("The answer ", "is ", "42."))
    events = await collect(model, [Message.system("Be brief."), Message.user("What is it?")])
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["The answer ", "is ", "42."]
    final = events[-1]
    assert isinstance(final, Completion)
    assert final.text == "The answer is 42."
    assert final.finish_reason == "stop"
    assert final.usage is not None and final.usage.total_tokens > 0
    sent = openai_server.last_chat_request()
    assert sent["stream"] is True
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is it?"}]
    assert "tools" not in sent


async def test_tool_call_with_fragmented_arguments_is_assembled(
    openai_server: FakeOpenAI, model: OpenAIChatModel
) -> None:
    arguments = {"expression": "(2 + 3) * 4", "note": 'quoted "text" and unicode: déjà vu'}
    openai_server.script(Turn.call("calculate", arguments, id="call_abc", fragments=9, text=["Let me compute."]))
    events = await collect(model, [Message.user("compute")])
    calls = [e for e in events if isinstance(e, ToolCallRequest)]
    assert calls == [ToolCallRequest("call_abc", "calculate", json.dumps(arguments))]
    assert calls[0].parsed_arguments() == arguments
    final = events[-1]
    assert isinstance(final, Completion)
    assert final.finish_reason == "tool_calls"
    assert final.tool_calls == tuple(calls)
    assert final.text == "Let me compute."


async def test_several_tool_calls_keep_their_order(openai_server: FakeOpenAI, model: OpenAIChatModel) -> None:
    openai_server.script(
        Turn.calls(
            ScriptedToolCall("calculate", {"expression": "1+1"}, fragments=4),
            ScriptedToolCall("http_get", {"url": "https://api.example.com/"}, fragments=5),
        )
    )
    final = await complete(model, [Message.user("both")])
    assert [(c.name, c.parsed_arguments()) for c in final.tool_calls] == [
        ("calculate", {"expression": "1+1"}),
        ("http_get", {"url": "https://api.example.com/"}),
    ]
    assert len({c.id for c in final.tool_calls}) == 2


async def test_request_lists_exactly_the_tools_passed(openai_server: FakeOpenAI, model: OpenAIChatModel) -> None:
    registry = Registry(builtin_agents(HttpSettings(allowed=("api.example.com",))))
    policies = PolicySet(organization=TierPolicy(tools={"http_post": "deny"}))
    specs = [tool.spec() for agent in usable_agents(registry, policies) for tool in agent.tools]
    await complete(model, [Message.user("hi")], tools=specs)
    sent = openai_server.last_chat_request()
    assert [t["function"]["name"] for t in sent["tools"]] == ["calculate", "http_get"]
    calculate = sent["tools"][0]
    assert calculate["type"] == "function"
    assert calculate["function"]["parameters"] == registry.tool("calculate")[1].parameters()
    assert calculate["function"]["description"].startswith("Evaluate an arithmetic expression")


async def test_tool_results_go_back_in_the_wire_format(openai_server: FakeOpenAI, model: OpenAIChatModel) -> None:
    call = ToolCallRequest("call_1", "calculate", '{"expression": "6*7"}')
    messages = [
        Message.user("six times seven?"),
        Message.assistant("", [call]),
        Message.tool_result("call_1", '{"result": 42}'),
    ]
    await complete(model, messages, options=ChatOptions(temperature=0.2, max_tokens=50))
    sent = openai_server.last_chat_request()
    assert sent["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "calculate", "arguments": '{"expression": "6*7"}'},
            }
        ],
    }
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": '{"result": 42}'}
    assert (sent["temperature"], sent["max_tokens"]) == (0.2, 50)


async def test_validate_makes_a_tiny_real_completion(openai_server: FakeOpenAI, model: OpenAIChatModel) -> None:
    final = await validate(model)
    assert final.text == "OK"
    sent = openai_server.last_chat_request()
    assert sent["max_tokens"] == 5
    assert "temperature" not in sent
    assert openai_server.requests[-1].authorization == "Bearer sk-test"


async def test_closed_port_is_provider_unreachable() -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    model = OpenAIChatModel(base_url=base_url, api_key="sk-test", model="m", timeout=5, max_retries=0)
    try:
        with pytest.raises(ProviderUnreachable) as error:
            await validate(model)
    finally:
        await model.close()
    assert error.value.code == "provider_unreachable" and error.value.status == 400
    assert isinstance(error.value, IntegrationError)
    assert error.value.message.startswith(f"Cannot reach the model provider at {base_url}")
    assert "connection refused" in error.value.message


async def test_wrong_api_key_is_a_clear_error(openai_server: FakeOpenAI) -> None:
    openai_server.api_key = "sk-right"
    model = OpenAIChatModel(
        base_url=openai_server.base_url, api_key="sk-wrong-secret", model="fake-model", max_retries=0
    )
    try:
        with pytest.raises(ProviderAuthFailed) as error:
            await validate(model)
    finally:
        await model.close()
    assert error.value.code == "provider_auth_failed" and error.value.status == 400
    assert "refused the API key (401): Incorrect API key provided." in error.value.message
    assert "sk-wrong-secret" not in error.value.message
    assert error.value.__cause__ is not None  # the SDK's exception stays in the chain for logs, not for callers


@pytest.mark.parametrize(
    ("turn", "error_type", "status", "words"),
    [
        (Turn.fail(429, "Rate limit reached", "rate_limit_error"), ProviderRateLimited, 429, "rate limiting"),
        (Turn.fail(400, "messages: too long"), ProviderRejected, 400, "refused the request (400): messages: too long"),
        (Turn.fail(500, "The server had an error"), ProviderError, 502, "failed (500): The server had an error"),
        (Turn.fail(403, "Project has no access", "permission_error"), ProviderAuthFailed, 400, "refused the API key"),
    ],
)
async def test_provider_failures_become_our_errors(
    openai_server: FakeOpenAI,
    model: OpenAIChatModel,
    turn: Turn,
    error_type: type[ProviderError],
    status: int,
    words: str,
) -> None:
    openai_server.script(turn)
    with pytest.raises(error_type) as error:
        await complete(model, [Message.user("hi")])
    assert type(error.value) is error_type
    assert error.value.status == status
    assert words in error.value.message


async def test_unknown_model_is_rejected(openai_server: FakeOpenAI) -> None:
    model = OpenAIChatModel(base_url=openai_server.base_url, api_key="k", model="gpt-nope", max_retries=0)
    try:
        with pytest.raises(ProviderRejected, match="does not know model 'gpt-nope'"):
            await validate(model)
    finally:
        await model.close()


async def test_connection_dropped_mid_answer(openai_server: FakeOpenAI, model: OpenAIChatModel) -> None:
    openai_server.script(Turn(text=("one ", "two ", "three"), hang_up_after=2))
    received: list[str] = []
    with pytest.raises(ProviderUnreachable, match="dropped the connection mid-answer"):
        async for event in model.stream([Message.user("count")]):
            if isinstance(event, TextDelta):
                received.append(event.text)
    assert received == ["one "]

"""The fake OpenAI-compatible server speaks well enough for the real `openai` SDK."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import openai
import pytest

from tests.fakes.fixtures import openai_server
from tests.fakes.openai_server import FakeOpenAI, Turn

__all__ = ["openai_server"]


@pytest.fixture
async def client(openai_server: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    yield sdk
    await sdk.close()


async def test_non_streaming_completion_with_a_tool_call(openai_server: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    openai_server.script(Turn.call("calculate", {"expression": "1+1"}, id="call_9", text=["Computing."]))
    completion = await client.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "1+1?"}]
    )
    message = completion.choices[0].message
    assert message.content == "Computing."
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert call.id == "call_9"
    assert call.function.name == "calculate"  # type: ignore[union-attr]
    assert call.function.arguments == '{"expression": "1+1"}'  # type: ignore[union-attr]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert openai_server.pending_turns == 0


async def test_unscripted_requests_get_the_default_turn(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "?"}])
    assert completion.choices[0].message.content == "OK"


async def test_embeddings_are_deterministic_unit_vectors(client: openai.AsyncOpenAI) -> None:
    first = await client.embeddings.create(model="e", input=["alpha", "beta", "alpha"])
    vectors = [d.embedding for d in first.data]
    assert len(vectors) == 3 and all(len(v) == 16 for v in vectors)
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]
    assert all(math.isclose(sum(x * x for x in v), 1.0) for v in vectors)
    sized = await client.embeddings.create(model="e", input="alpha", dimensions=8)
    assert len(sized.data[0].embedding) == 8


async def test_models_are_listed(client: openai.AsyncOpenAI) -> None:
    models = [m.id async for m in client.models.list()]
    assert models == ["fake-model"]


async def test_every_request_is_recorded(openai_server: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    await client.embeddings.create(model="e", input="x")
    [request] = openai_server.requests
    assert (request.method, request.path) == ("POST", "/v1/embeddings")
    assert request.body["input"] == "x"
    assert request.authorization == "Bearer sk-test"


async def test_api_key_is_enforced_when_set(openai_server: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    openai_server.api_key = "sk-other"
    with pytest.raises(openai.AuthenticationError):
        await client.models.list()

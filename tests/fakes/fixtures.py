"""Pytest fixtures for the fake servers; import them into a test module or a conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A started fake OpenAI-compatible server, stopped after the test; script it with `.script(Turn...)`."""
    with FakeOpenAI() as server:
        yield server

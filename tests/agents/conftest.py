"""Fixtures for the agents tests: the fake OpenAI-compatible server."""

from tests.fakes.fixtures import openai_server

__all__ = ["openai_server"]

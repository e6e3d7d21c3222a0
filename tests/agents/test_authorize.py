"""The enforcement point: the server decides every tool call, whatever the model asked for."""

from __future__ import annotations

import pydantic

from switchboard.agents import PolicySet, TierPolicy, UserPreferences, decide_tool_call
from switchboard.agents.builtin import HttpSettings, calculator_agent, http_agent
from switchboard.agents.builtin.calculator import CalculateArgs

CALCULATOR = calculator_agent()
HTTP = http_agent(HttpSettings(allowed=("api.example.com",)))


def test_allowed_read_tool_runs_with_parsed_arguments() -> None:
    verdict = decide_tool_call(PolicySet(), CALCULATOR, CALCULATOR.tool("calculate"), '{"expression": "1+1"}')
    assert verdict.outcome == "allow" and verdict.allowed
    assert isinstance(verdict.arguments, CalculateArgs) and verdict.arguments.expression == "1+1"


def test_write_tool_asks_for_confirmation() -> None:
    verdict = decide_tool_call(PolicySet(), HTTP, HTTP.tool("http_post"), {"url": "https://api.example.com/x"})
    assert verdict.outcome == "confirm" and not verdict.allowed
    assert verdict.confirmation is not None and verdict.confirmation.source == "default"
    assert verdict.arguments is not None  # shown to the person who approves


def test_confirmation_waived_by_an_admin() -> None:
    policies = PolicySet(organization=TierPolicy(confirm={"http_post": False}))
    verdict = decide_tool_call(policies, HTTP, HTTP.tool("http_post"), {"url": "https://api.example.com/x"})
    assert verdict.outcome == "allow"


def test_denied_tool_is_refused_whatever_the_model_asked() -> None:
    policies = PolicySet(groups={"eng": TierPolicy(tools={"calculate": "deny"})})
    verdict = decide_tool_call(policies, CALCULATOR, CALCULATOR.tool("calculate"), {"expression": "1"})
    assert verdict.outcome == "deny"
    assert verdict.access is not None and verdict.access.source == "group"
    assert verdict.arguments is None


def test_denied_agent_refuses_its_tools() -> None:
    policies = PolicySet(platform=TierPolicy(agents={"http": "deny"}), user=TierPolicy(tools={"http_get": "allow"}))
    verdict = decide_tool_call(policies, HTTP, HTTP.tool("http_get"), {"url": "https://api.example.com/"})
    assert verdict.outcome == "deny"
    assert "agent" in verdict.reason


def test_user_preference_refuses() -> None:
    policies = PolicySet(preferences=UserPreferences(tools={"calculate": "deny"}))
    verdict = decide_tool_call(policies, CALCULATOR, CALCULATOR.tool("calculate"), {"expression": "1"})
    assert verdict.outcome == "deny" and "preference" in verdict.reason


def test_invalid_arguments_are_refused_with_what_is_wrong() -> None:
    verdict = decide_tool_call(PolicySet(), CALCULATOR, CALCULATOR.tool("calculate"), '{"expr": 1}')
    assert verdict.outcome == "deny"
    assert [e["field"] for e in verdict.errors] == ["expression"]


def test_a_tool_of_another_agent_is_refused() -> None:
    verdict = decide_tool_call(PolicySet(), CALCULATOR, HTTP.tool("http_get"), {"url": "https://api.example.com/"})
    assert verdict.outcome == "deny"
    assert "no tool named http_get" in verdict.reason


def test_verdict_arguments_are_pydantic_models() -> None:
    verdict = decide_tool_call(PolicySet(), CALCULATOR, CALCULATOR.tool("calculate"), None)
    assert verdict.outcome == "deny"  # expression is required
    assert not isinstance(verdict.arguments, pydantic.BaseModel)

"""The calculator: exact arithmetic, and nothing but arithmetic."""

from __future__ import annotations

import pytest

from switchboard.agents import CallContext
from switchboard.agents.builtin import calculator_agent, evaluate
from switchboard.agents.errors import InvalidExpression


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2 ** 10", 1024),
        ("-2 ** 2", -4),
        ("2 ** -1", 0.5),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("10 / 4", 2.5),
        ("1.5e3 + 0.5", 1500.5),
        ("+-+3", -3),
        ("2 ** 3 ** 2", 512),
        ("10 ** 100", 10**100),
    ],
)
def test_correct_results(expression: str, expected: float) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("__import__('os').system('true')", "function calls"),
        ("abs(-1)", "function calls"),
        ("x + 1", "the name 'x'"),
        ("pi", "the name 'pi'"),
        ("(1).real", "attribute access"),
        ("'a' * 3", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("[1, 2]", "List"),
        ("1 if 1 else 2", "IfExp"),
        ("1 < 2", "Compare"),
        ("1 << 2", "BinOp"),
        ("lambda: 1", "Lambda"),
        ("1; 2", "Not an arithmetic expression"),
        ("", "empty"),
    ],
)
def test_refuses_anything_but_arithmetic(expression: str, why: str) -> None:
    with pytest.raises(InvalidExpression, match=why):
        evaluate(expression)


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("9 ** 9 ** 9", "Exponents are limited"),
        ("2 ** 100000", "Exponents are limited"),
        ("10 ** 5000", "too large"),
        ("(10 ** 2000) * (10 ** 2000)", "too large"),
        ("10.0 ** 400", "too large"),
        ("1e308 * 10", "too large"),
        ("(-8) ** (1 / 3)", "not a real number"),
        ("1 / 0", "Division by zero"),
        ("1 % 0", "Division by zero"),
        ("1" + " + 1" * 200, "longer than"),
    ],
)
def test_refuses_unbounded_work(expression: str, why: str) -> None:
    with pytest.raises(InvalidExpression, match=why) as error:
        evaluate(expression)
    assert error.value.status == 400 and error.value.code == "invalid_expression"


async def test_calculate_tool() -> None:
    tool = calculator_agent().tool("calculate")
    result = await tool.call(CallContext(), tool.parse_arguments('{"expression": "(2 + 3) * 4"}'))
    assert result == {"expression": "(2 + 3) * 4", "result": 20}

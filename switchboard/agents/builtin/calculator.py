"""The `calculator` agent: arithmetic on numbers, evaluated by walking the parsed expression.

Nothing is ever passed to `eval`: the expression is parsed with `ast` and only number
literals, + - * / // % ** and unary signs are evaluated. Sizes are bounded so an
expression cannot make the worker spend minutes or gigabytes on one answer.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

import pydantic

from switchboard.agents.errors import InvalidExpression
from switchboard.agents.registry import Agent, CallContext, Tool

MAX_EXPRESSION_LENGTH = 500
MAX_EXPONENT = 10_000
MAX_INTEGER_BITS = 8_192  # about 2,500 digits

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression; `InvalidExpression` says why one is refused."""
    text = expression.strip()
    if not text:
        raise InvalidExpression("The expression is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidExpression(f"The expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise InvalidExpression(f"Not an arithmetic expression: {text}") from exc
    try:
        return _check_result(_walk(tree.body))
    except ZeroDivisionError as exc:
        raise InvalidExpression("Division by zero") from exc
    except OverflowError as exc:
        raise InvalidExpression("The result is too large") from exc
    except RecursionError as exc:
        raise InvalidExpression("The expression is nested too deeply") from exc


def _walk(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant):
        # bool is an int subclass; True + 1 is not arithmetic a user meant.
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return node.value
        raise InvalidExpression(f"Only numbers are allowed, not {node.value!r}")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_walk(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _walk(node.left), _walk(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check_result(_BINARY[type(node.op)](left, right))
    raise InvalidExpression(f"Not allowed in an expression: {_describe(node)}")


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > MAX_EXPONENT:
        raise InvalidExpression(f"Exponents are limited to {MAX_EXPONENT}")
    # Integer powers are exact and grow without bound; estimate the size before computing it.
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 0:
        return
    if abs(base).bit_length() * exponent > MAX_INTEGER_BITS + exponent:
        raise InvalidExpression("The result is too large")


def _check_result(value: Number) -> Number:
    if isinstance(value, complex):
        raise InvalidExpression("The result is not a real number")
    if isinstance(value, int) and value.bit_length() > MAX_INTEGER_BITS:
        raise InvalidExpression("The result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidExpression("The result is too large")
    return value


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return f"the name {node.id!r}"
    if isinstance(node, ast.Call):
        return "function calls"
    if isinstance(node, ast.Attribute):
        return "attribute access"
    return type(node).__name__


class CalculateArgs(pydantic.BaseModel):
    """Arguments of `calculate`."""

    expression: str = pydantic.Field(
        description="An arithmetic expression with numbers, + - * / // % ** and parentheses, e.g. (2 + 3) * 4",
        max_length=MAX_EXPRESSION_LENGTH,
    )


async def calculate(context: CallContext, args: CalculateArgs) -> dict[str, Number | str]:
    """Evaluate the expression."""
    return {"expression": args.expression, "result": evaluate(args.expression)}


def calculator_agent() -> Agent:
    """The calculator agent, with its one tool."""
    tool = Tool(
        name="calculate",
        description="Evaluate an arithmetic expression exactly. Use it instead of doing arithmetic in your head.",
        args_model=CalculateArgs,
        function=calculate,
        kind="read",
    )
    return Agent("calculator", "Does arithmetic: evaluates expressions with + - * / // % ** and parentheses.", (tool,))

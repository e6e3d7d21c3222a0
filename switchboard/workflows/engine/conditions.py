"""Comparisons of condition and router nodes: data compared with data, never code evaluated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchboard.workflows.definition import Comparison
from switchboard.workflows.templates import render


def evaluate(
    comparisons: Sequence[Comparison], combine: str, scope: dict[str, Any]
) -> tuple[bool, list[dict[str, Any]]]:
    """Whether the comparisons hold (`all` or `any`), and each one's rendered sides and result."""
    checked = []
    for comparison in comparisons:
        left = render(comparison.left, scope)
        right = render(comparison.right, scope) if isinstance(comparison.right, str) else comparison.right
        checked.append(
            {"left": left, "op": comparison.op, "right": right, "result": compare(left, comparison.op, right)}
        )
    results = [c["result"] for c in checked]
    return (all(results) if combine == "all" else any(results)), checked


def compare(left: Any, op: str, right: Any) -> bool:
    """`left op right`; values of different kinds are compared as numbers when both read as numbers."""
    if op == "empty":
        return left in (None, "", [], {})
    if op == "not_empty":
        return left not in (None, "", [], {})
    if op in ("contains", "not_contains"):
        found = _contains(left, right)
        return found if op == "contains" else not found
    if op in ("in", "not_in"):
        found = _contains(right, left)
        return found if op == "in" else not found
    left, right = _comparable(left, right)
    try:
        if op == "eq":
            return bool(left == right)
        if op == "ne":
            return bool(left != right)
        if op == "gt":
            return bool(left > right)
        if op == "gte":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        if op == "lte":
            return bool(left <= right)
    except TypeError:
        return False
    raise ValueError(f"unknown operator {op}")


def _contains(container: Any, value: Any) -> bool:
    if isinstance(container, str):
        return str(value) in container
    if isinstance(container, (list, tuple, dict)):
        if value in container:
            return True
        number = _number(value)
        return number is not None and any(_number(item) == number for item in container)
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Numbers that arrive as text (a rendered template) compare as numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, str) and left.lower() in ("true", "false"):
            left = left.lower() == "true"
        if isinstance(right, str) and right.lower() in ("true", "false"):
            right = right.lower() == "true"
        return left, right
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a, b
    return left, right

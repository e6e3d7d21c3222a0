"""The node catalog (`GET /workflows/node-types`): each type's category, description, config schema, example."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard.workflows.definition import NODE_CONFIGS, Node, branches


@dataclass(frozen=True)
class NodeType:
    """One node type as the catalog shows it."""

    type: str
    category: str
    description: str
    config_schema: dict[str, Any]
    branches: list[str] | None
    example: Node


_CATEGORIES = {
    "trigger": "trigger",
    "agent": "action",
    "tool": "action",
    "transform": "action",
    "delivery": "action",
    "subworkflow": "action",
    "condition": "logic",
    "router": "logic",
    "merge": "logic",
    "loop": "logic",
    "delay": "logic",
    "approval": "human",
}
CATEGORIES = ("trigger", "action", "logic", "human")

_EXAMPLES: dict[str, dict[str, Any]] = {
    "trigger": {"kind": "manual"},
    "agent": {"agent": "documents", "instruction": "Summarise {{ input.topic }} in three lines."},
    "tool": {"agent": "calculator", "tool": "calculate", "arguments": {"expression": "{{ input.a }} * 7"}},
    "condition": {"conditions": [{"left": "{{ nodes.calc.output.result }}", "op": "gt", "right": 100}]},
    "router": {
        "routes": [
            {"name": "large", "conditions": [{"left": "{{ input.amount }}", "op": "gte", "right": 1000}]},
            {"name": "small", "conditions": [{"left": "{{ input.amount }}", "op": "lt", "right": 1000}]},
        ]
    },
    "merge": {"mode": "all"},
    "loop": {
        "items": "{{ input.rows }}",
        "steps": [
            {
                "id": "double",
                "type": "tool",
                "config": {"agent": "calculator", "tool": "calculate", "arguments": {"expression": "{{ item }} * 2"}},
            }
        ],
        "concurrency": 4,
    },
    "approval": {
        "approvers": {"roles": ["admin"]},
        "mode": "any",
        "title": "Approve a payment of {{ input.amount }}",
        "timeout_hours": 24,
        "on_timeout": "reject",
    },
    "delay": {"seconds": 3600},
    "transform": {"value": {"total": "{{ input.a + input.b }}"}},
    "delivery": {"channel": "webhook", "url": "https://example.com/hooks/switchboard", "body": {"run": "{{ input }}"}},
    "subworkflow": {
        "workflow_id": "00000000-0000-0000-0000-000000000000",
        "version": 1,
        "input": {"a": "{{ input.a }}"},
    },
}


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text else ""


def _node_type(name: str) -> NodeType:
    model = NODE_CONFIGS[name]
    example = Node.model_validate({"id": name, "type": name, "config": _EXAMPLES[name]})
    return NodeType(
        type=name,
        category=_CATEGORIES[name],
        description=_first_line(model.__doc__),
        config_schema=model.model_json_schema(),
        branches=list(found) if (found := branches(example)) is not None else None,
        example=example,
    )


NODE_TYPES: tuple[NodeType, ...] = tuple(_node_type(name) for name in NODE_CONFIGS)


def node_types(search: str | None = None, category: str | None = None) -> list[NodeType]:
    """The node types whose category is `category` and whose name or description holds `search` (any case)."""
    words = (search or "").lower().split()
    return [
        entry
        for entry in NODE_TYPES
        if (not category or entry.category == category)
        and all(word in f"{entry.type} {entry.description}".lower() for word in words)
    ]

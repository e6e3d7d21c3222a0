"""Seed 000's edit operations, applied in order to a copy of a definition: all of them or none.

`add_node`, `remove_node` (and its edges), `update_node` (config merged as a JSON merge patch, name,
retry, timeout), `connect`, `disconnect`, `rename` (the workflow, or a node with `node_id`). An
operation that cannot apply (an unknown node, a duplicate id or edge) stops the batch with a 422 naming
the operation; the result is then validated as a whole by `validation` before it is saved.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from switchboard.platform.errors import ValidationFailed
from switchboard.workflows.definition import Definition
from switchboard.workflows.schemas import (
    AddNode,
    Connect,
    Disconnect,
    NodePatch,
    Operation,
    RemoveNode,
    Rename,
    UpdateNode,
)


class OperationFailed(Exception):
    """One operation could not apply: where, and why."""

    def __init__(self, node: str | None, field: str, message: str) -> None:
        super().__init__(message)
        self.node, self.field, self.message = node, field, message


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge key by key, a null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply(definition: Definition, operations: list[Operation]) -> tuple[Definition, str]:
    """The definition after every operation, and a change summary; ValidationFailed naming the first that fails."""
    data = definition.model_dump(mode="json", by_alias=True)
    done: list[str] = []
    for index, operation in enumerate(operations):
        try:
            done.append(_apply_one(data, operation))
        except OperationFailed as exc:
            raise ValidationFailed(
                f"Operation {index} ({operation.op}) cannot apply: {exc.message}; nothing was changed",
                details=[
                    {
                        "operation": index,
                        "op": operation.op,
                        "node": exc.node,
                        "field": exc.field,
                        "message": exc.message,
                    }
                ],
            ) from None
    try:
        changed = Definition.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            "The operations leave a definition that does not validate; nothing was changed",
            details=[
                {
                    "node": _node_at(data, err["loc"]),
                    "field": ".".join(str(p) for p in err["loc"]),
                    "message": err["msg"],
                }
                for err in exc.errors(include_url=False)
            ],
        ) from None
    return changed, "; ".join(done)


def patch_node(definition: Definition, node_id: str, patch: NodePatch) -> tuple[Definition, str]:
    """The definition with one node changed (`PATCH /workflows/{id}/nodes/{node_id}`)."""
    update = UpdateNode(op="update_node", node_id=node_id, **patch.model_dump(exclude_unset=True))
    return apply(definition, [update])


def _node_at(data: dict[str, Any], loc: tuple[int | str, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int) and loc[1] < len(data["nodes"]):
        node_id = data["nodes"][loc[1]].get("id")
        return node_id if isinstance(node_id, str) else None
    return None


def _find(data: dict[str, Any], node_id: str, field: str = "node_id") -> dict[str, Any]:
    for node in data["nodes"]:
        if node["id"] == node_id:
            found: dict[str, Any] = node
            return found
    raise OperationFailed(node_id, field, f"no node has the id {node_id}")


def _apply_one(data: dict[str, Any], operation: Operation) -> str:
    """Apply one operation to `data` in place; returns its line of the change summary."""
    if isinstance(operation, AddNode):
        node = operation.node
        if any(existing["id"] == node.id for existing in data["nodes"]):
            raise OperationFailed(node.id, "node.id", f"a node with the id {node.id} already exists")
        data["nodes"].append(node.model_dump(mode="json"))
        return f"added {node.type} node {node.id}"
    if isinstance(operation, RemoveNode):
        _find(data, operation.node_id)
        data["nodes"] = [n for n in data["nodes"] if n["id"] != operation.node_id]
        data["edges"] = [e for e in data["edges"] if operation.node_id not in (e["from"], e["to"])]
        return f"removed node {operation.node_id}"
    if isinstance(operation, UpdateNode):
        return _update(data, operation)
    if isinstance(operation, Connect):
        _find(data, operation.source, "from")
        _find(data, operation.target, "to")
        edge = {"from": operation.source, "to": operation.target, "when": operation.when}
        if edge in data["edges"]:
            raise OperationFailed(operation.source, "to", f"the edge {operation.source} -> {operation.target} exists")
        data["edges"].append(edge)
        return f"connected {operation.source} -> {operation.target}" + (
            f" ({operation.when})" if operation.when else ""
        )
    if isinstance(operation, Disconnect):
        return _disconnect(data, operation)
    return _rename(data, operation)


def _update(data: dict[str, Any], operation: UpdateNode) -> str:
    node = _find(data, operation.node_id)
    given = operation.model_fields_set - {"op", "node_id"}
    if not given:
        raise OperationFailed(operation.node_id, "node_id", "name at least one of name, config, retry, timeout_seconds")
    if "name" in given:
        node["name"] = operation.name
    if "config" in given:
        node["config"] = merge_patch(node.get("config", {}), operation.config or {})
    if "retry" in given:
        node["retry"] = merge_patch(node.get("retry", {}), operation.retry or {})
    if "timeout_seconds" in given:
        node["timeout_seconds"] = operation.timeout_seconds
    return f"updated node {operation.node_id} ({', '.join(sorted(given))})"


def _disconnect(data: dict[str, Any], operation: Disconnect) -> str:
    def matches(edge: dict[str, Any]) -> bool:
        same_ends = edge["from"] == operation.source and edge["to"] == operation.target
        return same_ends and ("when" not in operation.model_fields_set or edge.get("when") == operation.when)

    kept = [edge for edge in data["edges"] if not matches(edge)]
    if len(kept) == len(data["edges"]):
        raise OperationFailed(operation.source, "to", f"no edge {operation.source} -> {operation.target} to remove")
    data["edges"] = kept
    return f"disconnected {operation.source} -> {operation.target}"


def _rename(data: dict[str, Any], operation: Rename) -> str:
    if operation.node_id is None:
        data["name"] = operation.name
        return f"renamed the workflow to {operation.name}"
    _find(data, operation.node_id)["name"] = operation.name
    return f"renamed node {operation.node_id} to {operation.name}"

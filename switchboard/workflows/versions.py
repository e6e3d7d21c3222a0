"""A workflow's immutable versions: list, get, compare two, restore an old one as a new version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from switchboard.agents import Registry
from switchboard.platform.auth import Principal
from switchboard.workflows import service
from switchboard.workflows.definition import Definition
from switchboard.workflows.models import Workflow, WorkflowVersion


async def list_versions(
    principal: Principal, workflow_id: uuid.UUID | str, *, limit: int, offset: int
) -> tuple[list[WorkflowVersion], int]:
    """The workflow's versions, newest first, and how many there are."""
    workflow = await service.get_workflow(principal, workflow_id)
    query = WorkflowVersion.filter(workflow_id=workflow.id, org_id=workflow.org_id)
    total = await query.count()
    return list(await query.order_by("-version").offset(offset).limit(limit)), total


async def get_version(principal: Principal, workflow_id: uuid.UUID | str, version: int) -> WorkflowVersion:
    """One version of the caller's org's workflow."""
    return await service.version_row(await service.get_workflow(principal, workflow_id), version)


@dataclass
class Comparison:
    """What changed from version `a` to version `b`."""

    a: int
    b: int
    workflow: list[str] = field(default_factory=list)
    nodes_added: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    nodes_changed: list[tuple[str, list[str]]] = field(default_factory=list)
    edges_added: list[dict[str, Any]] = field(default_factory=list)
    edges_removed: list[dict[str, Any]] = field(default_factory=list)


async def compare(principal: Principal, workflow_id: uuid.UUID | str, a: int | None, b: int | None) -> Comparison:
    """Nodes added, removed and changed (with the changed fields), edges added and removed, from `a` to `b`.

    Without `b`, the current version; without `a`, the one before `b`: what the latest save changed.
    """
    workflow = await service.get_workflow(principal, workflow_id)
    b = workflow.version if b is None else b
    a = max(b - 1, 1) if a is None else a
    old = Definition.model_validate((await service.version_row(workflow, a)).definition)
    new = Definition.model_validate((await service.version_row(workflow, b)).definition)
    return diff(old, new, a, b)


def diff(old: Definition, new: Definition, a: int = 0, b: int = 0) -> Comparison:
    """The comparison of two definitions."""
    result = Comparison(a=a, b=b)
    before, after = old.model_dump(mode="json", by_alias=True), new.model_dump(mode="json", by_alias=True)
    for name in ("name", "description"):
        if before[name] != after[name]:
            result.workflow.append(name)
    result.workflow += _changed_fields(before["settings"], after["settings"], "settings")
    old_nodes = {node["id"]: node for node in before["nodes"]}
    new_nodes = {node["id"]: node for node in after["nodes"]}
    result.nodes_added = [node_id for node_id in new_nodes if node_id not in old_nodes]
    result.nodes_removed = [node_id for node_id in old_nodes if node_id not in new_nodes]
    for node_id, node in new_nodes.items():
        if node_id in old_nodes and old_nodes[node_id] != node:
            result.nodes_changed.append((node_id, _changed_fields(old_nodes[node_id], node)))
    result.edges_added = [edge for edge in after["edges"] if edge not in before["edges"]]
    result.edges_removed = [edge for edge in before["edges"] if edge not in after["edges"]]
    return result


def _changed_fields(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Top-level keys that differ; for `config`, `retry` and `settings`, the keys inside (`config.arguments`)."""
    changed = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}.{key}" if prefix else key
        if old.get(key) == new.get(key):
            continue
        if (
            not prefix
            and key in ("config", "retry")
            and isinstance(old.get(key), dict)
            and isinstance(new.get(key), dict)
        ):
            changed += _changed_fields(old[key], new[key], key)
        else:
            changed.append(path)
    return changed


async def restore(
    principal: Principal,
    workflow_id: uuid.UUID | str,
    version: int,
    *,
    expected: int | None,
    registry: Registry,
    summary: str | None = None,
) -> Workflow:
    """A new version equal to version `version` (validated again: an agent it names may have gone since)."""
    workflow = await service.get_workflow(principal, workflow_id)
    old = await service.version_row(workflow, version)
    base = service.base_version(workflow, expected)
    definition = Definition.model_validate(old.definition)
    return await service.save_version(
        principal, workflow, base, definition, registry, summary or f"restored version {version}"
    )

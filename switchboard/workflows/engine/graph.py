"""A definition as the engine walks it: nodes by id, edges in and out, cached per (workflow, version).

Versions never change, so each process keeps the graphs it has read (a step needs its node, the
edges leaving it and how its successors join without a query).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from switchboard.platform.errors import NotFound
from switchboard.workflows.definition import Definition, Edge, MergeConfig, Node, node_config
from switchboard.workflows.models import WorkflowVersion

_CACHE: dict[tuple[str, int], Graph] = {}
_CACHE_MAX = 512


@dataclass
class Graph:
    """One version of a workflow, indexed for the engine."""

    workflow_id: str
    version: int
    definition: Definition
    nodes: dict[str, Node] = field(default_factory=dict)
    configs: dict[str, BaseModel] = field(default_factory=dict)
    outgoing: dict[str, list[Edge]] = field(default_factory=dict)
    incoming: dict[str, list[Edge]] = field(default_factory=dict)

    @classmethod
    def of(cls, workflow_id: str, version: int, definition: Definition) -> Graph:
        """Index `definition`."""
        graph = cls(workflow_id, version, definition)
        for node in definition.nodes:
            graph.nodes[node.id] = node
            graph.configs[node.id] = node_config(node)
            graph.outgoing[node.id] = []
            graph.incoming[node.id] = []
        for edge in definition.edges:
            graph.outgoing[edge.source].append(edge)
            graph.incoming[edge.target].append(edge)
        return graph

    @property
    def trigger(self) -> Node:
        """The one trigger node."""
        return next(node for node in self.definition.nodes if node.type == "trigger")

    def join(self, node_id: str) -> tuple[int, bool]:
        """How the node waits for its incoming edges: (taken edges needed, whether every edge must be resolved).

        A merge `any` goes on with the first branch, `count` N with the Nth; every other node (and
        merge `all`) waits until each incoming edge is resolved and goes on when at least one was taken
        (all the branches that actually ran).
        """
        config = self.configs[node_id]
        if isinstance(config, MergeConfig):
            if config.mode == "any":
                return 1, False
            if config.mode == "count":
                return min(config.count or 1, max(1, len(self.incoming[node_id]))), False
        return 1, True

    def taken(self, node_id: str, branch: str | None) -> list[tuple[str, bool]]:
        """Each successor of `node_id` and whether its edge is taken when the node ended on `branch`.

        `branch` None: every edge without `when` (and, after an approval, `approved`) is taken. Several
        edges to one target count once each (a router's two routes to the same node).
        """
        result = []
        for edge in self.outgoing[node_id]:
            result.append((edge.target, _takes(edge, branch)))
        return result


def _takes(edge: Edge, branch: str | None) -> bool:
    if branch is None or branch == "approved":
        return edge.when is None or edge.when == "approved"
    if edge.when is None:
        # an approval's plain edges follow approval only; a condition's or router's plain edges always
        return branch not in ("rejected", "timeout")
    names = branch.split(",")  # a router in mode `all` takes several routes
    return edge.when in names


async def graph_for(workflow_id: uuid.UUID | str, version: int) -> Graph:
    """The graph of one version (read once per process)."""
    key = (str(workflow_id), version)
    graph = _CACHE.get(key)
    if graph is not None:
        return graph
    row = await WorkflowVersion.get_or_none(workflow_id=workflow_id, version=version)
    if row is None:
        raise NotFound("Workflow version not found", code="workflow_version_not_found")
    graph = Graph.of(str(workflow_id), version, Definition.model_validate(row.definition))
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = graph
    return graph


def remember(graph: Graph) -> None:
    """Keep a graph just built from a definition (a run started in this process reads it again)."""
    _CACHE[(graph.workflow_id, graph.version)] = graph


def output_scope(run_input: Any, outputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What templates see: `input`, `nodes.<id>.output`, and loop variables."""
    return {"input": run_input, "nodes": {node: {"output": value} for node, value in outputs.items()}, **extra}

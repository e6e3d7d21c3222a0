"""Whole-graph checks of a definition on save: a 422 whose `details` name the node and the field.

`definition.Definition` checks each node's shape; this module checks what needs the whole graph and
the org: exactly one trigger, edges between known nodes, no duplicates, no cycles (a loop is a node,
never a back edge), `when` values the source can take, every node reachable from the trigger, each
node's config against its type, templates that compile and name only upstream nodes, agents and tools
that exist, approvers and subworkflows of the caller's org. Every problem found is reported at once:
`{"node": <id or null>, "field": <path inside the node, or edges.N.field>, "message": ...}`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError, meta
from jinja2 import nodes as ast
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ValidationError

from switchboard.agents import Registry
from switchboard.agents.errors import UnknownAgent, UnknownTool
from switchboard.platform.auth import Principal
from switchboard.platform.errors import ValidationFailed
from switchboard.platform.orgs.models import Group, Membership
from switchboard.workflows.definition import (
    AgentConfig,
    ApprovalConfig,
    Definition,
    LoopConfig,
    MergeConfig,
    Node,
    SubworkflowConfig,
    ToolConfig,
    branches,
    node_config,
)
from switchboard.workflows.models import Workflow, WorkflowVersion
from switchboard.workflows.templates import TemplateFailed, compile_template

# what every template sees; loop steps also see ITEM_NAMES
SCOPE_NAMES = frozenset({"input", "nodes"})
ITEM_NAMES = frozenset({"item", "index"})
# a loop's inline steps run in sequence: no trigger, and no node whose branches need edges
NOT_IN_LOOPS = frozenset({"trigger", "condition", "router", "merge", "approval"})
_parser = SandboxedEnvironment()


@dataclass
class Problems:
    """The problems found so far, in the 422's `details` shape."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, node: str | None, field_path: str, message: str) -> None:
        """Record one problem of `node` (None: the workflow itself) at `field_path`."""
        self.items.append({"node": node, "field": field_path, "message": message})

    def raise_if_any(self) -> None:
        """ValidationFailed naming every problem, if there is one."""
        if self.items:
            first = self.items[0]
            where = f"node {first['node']}, " if first["node"] else ""
            raise ValidationFailed(
                f"The workflow is not valid: {where}{first['field']}: {first['message']}", details=self.items
            )


async def validate(
    definition: Definition, *, principal: Principal, registry: Registry, workflow_id: uuid.UUID | None = None
) -> None:
    """Raise ValidationFailed (422) listing every problem of `definition` for `principal`'s org."""
    problems = Problems()
    ids = _check_ids(definition, problems)
    edges_ok = _check_edges(definition, ids, problems)
    trigger = _check_trigger(definition, problems)
    ancestors: dict[str, set[str]] = {}
    if edges_ok:
        order = _topological_order(definition, problems)
        if order is not None:
            ancestors = _ancestors(definition, order)
            if trigger is not None:
                _check_reachable(definition, trigger, ancestors, problems)
    configs = {node.id: _check_config(node, "config", problems) for node in definition.nodes}
    _check_merges(definition, configs, problems)
    for node in definition.nodes:
        config = configs[node.id]
        if config is None:
            continue
        # a broken graph (dangling edges, a cycle) has no order: then any other node may be named
        upstream = ancestors[node.id] if ancestors else ids - {node.id}
        _check_templates(node.id, "config", node, config, upstream, SCOPE_NAMES, problems)
        _check_agents(node.id, "config", config, registry, problems)
        if isinstance(config, LoopConfig):
            _check_loop(node.id, config, upstream, registry, problems)
    await _check_org_references(definition, configs, principal, workflow_id, problems)
    problems.raise_if_any()


# --- graph -------------------------------------------------------------------------------------------


def _check_ids(definition: Definition, problems: Problems) -> set[str]:
    seen: set[str] = set()
    for index, node in enumerate(definition.nodes):
        if node.id in seen:
            problems.add(node.id, f"nodes.{index}.id", f"another node already has the id {node.id}")
        seen.add(node.id)
    return seen


def _check_edges(definition: Definition, ids: set[str], problems: Problems) -> bool:
    """Edges between known nodes, no duplicates, `when` values the source can take; False if one is dangling."""
    by_id = {node.id: node for node in definition.nodes}
    seen: set[tuple[str, str, str | None]] = set()
    connected = True
    for index, edge in enumerate(definition.edges):
        for end, name in (("from", edge.source), ("to", edge.target)):
            if name not in ids:
                problems.add(edge.source if end == "to" else None, f"edges.{index}.{end}", f"no node has the id {name}")
                connected = False
        key = (edge.source, edge.target, edge.when)
        if key in seen:
            problems.add(edge.source, f"edges.{index}", f"the edge {edge.source} -> {edge.target} is drawn twice")
        seen.add(key)
        source = by_id.get(edge.source)
        if source is not None:
            _check_when(source, edge.when, f"edges.{index}.when", problems)
    return connected


def _check_when(source: Node, when: str | None, field_path: str, problems: Problems) -> None:
    allowed = branches(source)
    if allowed is None:
        if when is not None:
            problems.add(source.id, field_path, f"a {source.type} node has no branches; drop `when`")
    elif when is None:
        if source.type != "approval":  # after an approval, no `when` means approved
            problems.add(source.id, field_path, f"an edge after a {source.type} names its branch: {', '.join(allowed)}")
    elif when not in allowed:
        problems.add(source.id, field_path, f"`{when}` is not a branch of this {source.type}: {', '.join(allowed)}")


def _check_trigger(definition: Definition, problems: Problems) -> str | None:
    triggers = [node.id for node in definition.nodes if node.type == "trigger"]
    if not triggers:
        problems.add(None, "nodes", "a workflow needs exactly one trigger node; it has none")
        return None
    for extra in triggers[1:]:
        problems.add(extra, "type", f"a workflow has exactly one trigger; {triggers[0]} is already one")
    for index, edge in enumerate(definition.edges):
        if edge.target == triggers[0]:
            problems.add(triggers[0], f"edges.{index}.to", "nothing may lead into the trigger")
    return triggers[0]


def _topological_order(definition: Definition, problems: Problems) -> list[str] | None:
    """Kahn's order of the nodes; None (and a problem per node on a cycle) when the edges form a cycle."""
    incoming = {node.id: 0 for node in definition.nodes}
    following: dict[str, list[str]] = {node.id: [] for node in definition.nodes}
    for edge in definition.edges:
        if edge.target not in following[edge.source]:
            following[edge.source].append(edge.target)
            incoming[edge.target] += 1
    ready = [node_id for node_id, count in incoming.items() if count == 0]
    order: list[str] = []
    while ready:
        current = ready.pop()
        order.append(current)
        for target in following[current]:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    if len(order) == len(incoming):
        return order
    for node_id in sorted(n for n, count in incoming.items() if count > 0 and n not in order):
        problems.add(node_id, "edges", "the edges form a cycle through this node (repeat work with a loop node)")
    return None


def _ancestors(definition: Definition, order: list[str]) -> dict[str, set[str]]:
    before: dict[str, set[str]] = {node_id: set() for node_id in order}
    sources: dict[str, list[str]] = {node_id: [] for node_id in order}
    for edge in definition.edges:
        sources[edge.target].append(edge.source)
    for node_id in order:
        for source in sources[node_id]:
            before[node_id] |= before[source] | {source}
    return before


def _check_reachable(definition: Definition, trigger: str, ancestors: dict[str, set[str]], problems: Problems) -> None:
    for node in definition.nodes:
        if node.id != trigger and trigger not in ancestors[node.id]:
            problems.add(node.id, "edges", f"no path leads to this node from the trigger {trigger}")


# --- configs -----------------------------------------------------------------------------------------


def _check_config(node: Node, prefix: str, problems: Problems) -> BaseModel | None:
    try:
        return node_config(node)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = ".".join(str(part) for part in error["loc"])
            problems.add(node.id, f"{prefix}.{path}" if path else prefix, error["msg"])
        return None


def _check_merges(definition: Definition, configs: dict[str, BaseModel | None], problems: Problems) -> None:
    incoming = {node.id: 0 for node in definition.nodes}
    for edge in definition.edges:
        if edge.target in incoming:
            incoming[edge.target] += 1
    for node_id, config in configs.items():
        if isinstance(config, MergeConfig) and config.count is not None and config.count > incoming[node_id]:
            problems.add(
                node_id, "config.count", f"waits for {config.count} branches but only {incoming[node_id]} lead here"
            )


def _check_agents(node_id: str, prefix: str, config: BaseModel, registry: Registry, problems: Problems) -> None:
    if not isinstance(config, (AgentConfig, ToolConfig)):
        return
    try:
        agent = registry.agent(config.agent)
    except UnknownAgent:
        problems.add(node_id, f"{prefix}.agent", f"no agent named {config.agent}")
        return
    if isinstance(config, ToolConfig):
        try:
            agent.tool(config.tool)
        except UnknownTool:
            problems.add(node_id, f"{prefix}.tool", f"the agent {config.agent} has no tool named {config.tool}")


def _check_loop(node_id: str, config: LoopConfig, upstream: set[str], registry: Registry, problems: Problems) -> None:
    """A loop's inline steps: their own configs, templates (which also see `item`, `index` and earlier steps)."""
    earlier: set[str] = set()
    for index, step in enumerate(config.steps):
        prefix = f"config.steps.{index}"
        if step.type in NOT_IN_LOOPS:
            problems.add(node_id, f"{prefix}.type", f"a {step.type} node cannot be a step inside a loop")
            continue
        if step.id in earlier:
            problems.add(node_id, f"{prefix}.id", f"another step of this loop already has the id {step.id}")
        step_config = _check_config(step, f"{prefix}.config", _Renamed(problems, node_id))
        if step_config is not None:
            visible = upstream | earlier
            names = SCOPE_NAMES | ITEM_NAMES
            _check_templates(node_id, f"{prefix}.config", step, step_config, visible, names, problems)
            _check_agents(node_id, f"{prefix}.config", step_config, registry, problems)
            if isinstance(step_config, LoopConfig):
                _check_loop(node_id, step_config, visible, registry, problems)
        earlier.add(step.id)


class _Renamed(Problems):
    """Reports an inline step's problems under its loop node."""

    def __init__(self, inner: Problems, node_id: str) -> None:
        super().__init__(inner.items)
        self._node_id = node_id

    def add(self, node: str | None, field_path: str, message: str) -> None:
        """Record under the loop node."""
        super().add(self._node_id, field_path, message)


# --- templates ---------------------------------------------------------------------------------------


def _template_fields(config: BaseModel) -> Iterator[tuple[str, str]]:
    """(path inside the config, text) of every template-bearing string of a node config."""
    for name in type(config).model_fields:
        value = getattr(config, name)
        if name in ("steps", "agent", "tool", "approvers", "to", "workflow_id", "channel", "mode", "combine"):
            continue  # plain values or inline nodes (checked on their own), never templates
        if isinstance(value, BaseModel):
            for path, text in _template_fields(value):
                yield f"{name}.{path}", text
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            for index, item in enumerate(value):
                for path, text in _template_fields(item):
                    yield f"{name}.{index}.{path}", text
        else:
            yield from _strings(name, value)


def _strings(path: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(f"{path}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(f"{path}.{index}", item)


def _check_templates(
    node_id: str,
    prefix: str,
    node: Node,
    config: BaseModel,
    upstream: set[str],
    names: frozenset[str],
    problems: Problems,
) -> None:
    for path, text in _template_fields(config):
        if "{" not in text:
            continue
        where = f"{prefix}.{path}"
        try:
            compile_template(text)
            tree = _parser.parse(text)
        except (TemplateFailed, TemplateError) as exc:
            problems.add(node_id, where, str(exc))
            continue
        unknown = sorted(meta.find_undeclared_variables(tree) - names - set(_parser.globals))
        if unknown:
            problems.add(
                node_id, where, f"unknown name(s) {', '.join(unknown)}: templates see {', '.join(sorted(names))}"
            )
        for referenced in sorted(_referenced_nodes(tree)):
            if referenced == node.id:
                problems.add(node_id, where, f"a node cannot read its own output (nodes.{referenced})")
            elif referenced not in upstream:
                problems.add(node_id, where, f"nodes.{referenced} is not a node that runs before this one")


def _referenced_nodes(tree: ast.Template) -> set[str]:
    found: set[str] = set()
    for getattr_node in tree.find_all(ast.Getattr):
        if isinstance(getattr_node.node, ast.Name) and getattr_node.node.name == "nodes":
            found.add(getattr_node.attr)
    for getitem in tree.find_all(ast.Getitem):
        if (
            isinstance(getitem.node, ast.Name)
            and getitem.node.name == "nodes"
            and isinstance(getitem.arg, ast.Const)
            and isinstance(getitem.arg.value, str)
        ):
            found.add(getitem.arg.value)
    return found


# --- the org: approvers and subworkflows ---------------------------------------------------------------


async def _check_org_references(
    definition: Definition,
    configs: dict[str, BaseModel | None],
    principal: Principal,
    workflow_id: uuid.UUID | None,
    problems: Problems,
) -> None:
    for node_id, config in configs.items():
        if isinstance(config, ApprovalConfig):
            await _check_approvers(node_id, config, principal, problems)
        elif isinstance(config, SubworkflowConfig):
            await _check_subworkflow(node_id, config, principal, workflow_id, problems)


def _uuids(values: list[str], node_id: str, field_path: str, problems: Problems) -> list[uuid.UUID]:
    parsed = []
    for index, value in enumerate(values):
        try:
            parsed.append(uuid.UUID(value))
        except ValueError:
            problems.add(node_id, f"{field_path}.{index}", f"{value} is not an id")
    return parsed


async def _check_approvers(node_id: str, config: ApprovalConfig, principal: Principal, problems: Problems) -> None:
    users = _uuids(config.approvers.users, node_id, "config.approvers.users", problems)
    if users:
        members = set(
            await Membership.filter(org_id=principal.org_id, user_id__in=users).values_list("user_id", flat=True)
        )
        for user in users:
            if user not in members:
                problems.add(node_id, "config.approvers.users", f"{user} is not a member of this organization")
    groups = _uuids(config.approvers.groups, node_id, "config.approvers.groups", problems)
    if groups:
        known = set(await Group.filter(org_id=principal.org_id, id__in=groups).values_list("id", flat=True))
        for group in groups:
            if group not in known:
                problems.add(node_id, "config.approvers.groups", f"{group} is not a group of this organization")


async def _check_subworkflow(
    node_id: str, config: SubworkflowConfig, principal: Principal, workflow_id: uuid.UUID | None, problems: Problems
) -> None:
    try:
        target = uuid.UUID(config.workflow_id)
    except ValueError:
        problems.add(node_id, "config.workflow_id", "no workflow of this organization has this id")
        return
    if target == workflow_id:
        problems.add(node_id, "config.workflow_id", "a workflow cannot run itself as a subworkflow")
        return
    if not await Workflow.filter(id=target, org_id=principal.org_id, deleted_at=None).exists():
        problems.add(node_id, "config.workflow_id", "no workflow of this organization has this id")
        return
    if (
        config.version > 2**31 - 1
        or not await WorkflowVersion.filter(workflow_id=target, version=config.version).exists()
    ):
        problems.add(node_id, "config.version", f"the workflow has no version {config.version}")

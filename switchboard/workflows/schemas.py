"""Request and response bodies of the definition routes (they also feed the OpenAPI document).

A definition's own models (`Definition`, `Node`, `Edge`, ...) live in `definition`; these wrap them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from switchboard.platform.query import QueryArgs
from switchboard.workflows.definition import NODE_ID, Edge, Node, NodeId, WorkflowSettings

MAX_VERSION = 2**31 - 1
# query text: bounded, and never a NUL (PostgreSQL stores none, and no name contains one)
QueryText = Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")]
Status = Literal["draft", "active", "paused", "error", "archived"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- workflows ----------------------------------------------------------------------------------


class WorkflowQuery(QueryArgs):
    """List filters."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)
    status: Status | None = None
    search: QueryText | None = Field(None, description="Part of the name, any case.")


class WorkflowSummary(BaseModel):
    """A workflow in a list."""

    id: UUID
    name: str
    description: str
    version: int
    status: Status
    trigger_kind: str
    owner_id: UUID
    created_at: datetime
    updated_at: datetime


class WorkflowOut(WorkflowSummary):
    """A workflow with its current version's definition."""

    nodes: list[Node]
    edges: list[Edge]
    settings: WorkflowSettings
    consecutive_failures: int
    change_summary: str = Field(description="What the current version changed.")


class WorkflowPage(BaseModel):
    """A page of workflows."""

    items: list[WorkflowSummary]
    total: int
    limit: int
    offset: int


class IfMatch(BaseModel):
    """Request headers of a save: the version it builds on."""

    if_match: str | None = Field(
        None,
        max_length=20,
        pattern=r'^(\*|(W/)?"?[0-9]{1,12}"?)$',
        description='The version this save builds on (`3` or `"3"`); another is current -> 412 `version_mismatch`.',
    )


# --- edit operations (seed 000) -------------------------------------------------------------------


class AddNode(_In):
    """Add a node (connect it with `connect` in the same request)."""

    op: Literal["add_node"]
    node: Node


class RemoveNode(_In):
    """Remove a node and every edge into or out of it."""

    op: Literal["remove_node"]
    node_id: NodeId


class UpdateNode(_In):
    """Change a node: `config` is merged into its config as a JSON merge patch (a null value removes a key)."""

    op: Literal["update_node"]
    node_id: NodeId
    name: str | None = Field(default=None, max_length=200)
    config: dict[str, Any] | None = None
    retry: dict[str, Any] | None = Field(default=None, description="Merged into the retry policy.")
    timeout_seconds: float | None = Field(default=None, gt=0, le=24 * 3600)


class Connect(_In):
    """Draw an edge."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    op: Literal["connect"]
    source: NodeId = Field(alias="from")
    target: NodeId = Field(alias="to")
    when: str | None = Field(default=None, max_length=40)


class Disconnect(_In):
    """Remove the edge `from` -> `to` (with that `when`; without `when`, every edge between the two)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    op: Literal["disconnect"]
    source: NodeId = Field(alias="from")
    target: NodeId = Field(alias="to")
    when: str | None = Field(default=None, max_length=40)


class Rename(_In):
    """Rename the workflow, or with `node_id` one of its nodes."""

    op: Literal["rename"]
    name: str = Field(min_length=1, max_length=200)
    node_id: NodeId | None = None


Operation = Annotated[AddNode | RemoveNode | UpdateNode | Connect | Disconnect | Rename, Field(discriminator="op")]


class OperationsIn(_In):
    """Edit operations applied in order, all or none, saved as one new version."""

    operations: list[Operation] = Field(min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=500, description="The change summary; generated if absent.")


class NodePatch(_In):
    """`PATCH /workflows/{id}/nodes/{node_id}`: the node's fields to change (config merged as a JSON merge patch)."""

    name: str | None = Field(default=None, max_length=200)
    config: dict[str, Any] | None = None
    retry: dict[str, Any] | None = None
    timeout_seconds: float | None = Field(default=None, gt=0, le=24 * 3600)


# --- versions -------------------------------------------------------------------------------------


class VersionQuery(QueryArgs):
    """Which slice of the version list."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class VersionSummary(BaseModel):
    """A version in the list."""

    version: int
    name: str
    change_summary: str
    author_id: UUID | None
    node_count: int
    created_at: datetime


class VersionOut(VersionSummary):
    """One immutable version: the definition exactly as saved."""

    workflow_id: UUID
    description: str
    nodes: list[Node]
    edges: list[Edge]
    settings: WorkflowSettings


class VersionPage(BaseModel):
    """A page of versions, newest first."""

    items: list[VersionSummary]
    total: int
    limit: int
    offset: int


class CompareQuery(QueryArgs):
    """The two versions to compare; by default what the latest save changed (the one before -> the current)."""

    a: int | None = Field(None, ge=1, le=MAX_VERSION, description="Default: the version before `b`.")
    b: int | None = Field(None, ge=1, le=MAX_VERSION, description="Default: the current version.")


class NodeChange(BaseModel):
    """A node in both versions whose fields differ (`config.<key>`, `name`, `retry.<key>`, ...)."""

    id: str = Field(pattern=NODE_ID)
    fields: list[str]


class NodeDiff(BaseModel):
    """Nodes added, removed and changed from `a` to `b`."""

    added: list[str]
    removed: list[str]
    changed: list[NodeChange]


class EdgeDiff(BaseModel):
    """Edges added and removed from `a` to `b`."""

    added: list[Edge]
    removed: list[Edge]


class CompareOut(BaseModel):
    """What changed from version `a` to version `b`."""

    a: int
    b: int
    workflow: list[str] = Field(description="Changed workflow fields: name, description, settings.<key>.")
    nodes: NodeDiff
    edges: EdgeDiff


# --- node types -----------------------------------------------------------------------------------


class NodeTypeQuery(QueryArgs):
    """Node catalog filters (seed 002)."""

    search: QueryText | None = Field(None, description="Words in the type's name or description.")
    category: QueryText | None = Field(None, description="trigger | action | logic | human")


class NodeTypeOut(BaseModel):
    """A node type: what it does, its config's JSON schema, the branches its edges may name, an example node."""

    type: str
    category: str
    description: str
    config_schema: dict[str, Any]
    branches: list[str] | None = Field(description="`when` values edges leaving it may carry; null: none.")
    example: Node


class NodeTypeList(BaseModel):
    """The node catalog."""

    items: list[NodeTypeOut]
    total: int

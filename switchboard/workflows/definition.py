"""What a workflow is made of: nodes, edges and each node type's config, as pydantic models.

A definition is `{name, description?, nodes, edges, settings?}`. A node is `{id, type, name?,
config, retry?, timeout_seconds?}`; an edge `{from, to, when?}`, where `when` names the branch it
follows (`true`/`false` after a condition, a route name after a router, `approved` (the default),
`rejected` or `timeout` after an approval). These models check one node at a time; the checks that
need the whole graph (one trigger, no cycles, edges between known nodes, valid `when` values,
templates that compile, agents and tools that exist) live in `validation`.

String values in configs marked as templates are rendered with Jinja2's sandbox (strict undefined)
against `input` (the run's input) and `nodes.<id>.output` (see `templates`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NODE_ID = r"^[a-z][a-z0-9_]{0,39}$"
NodeId = Annotated[str, Field(pattern=NODE_ID, description="Unique within the workflow; templates name it.")]
Template = Annotated[str, Field(max_length=20_000, description="A Jinja2 template (sandboxed, strict undefined).")]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- node configs -----------------------------------------------------------------------------


class TriggerConfig(_Config):
    """How a run starts: by hand (or the API), on a schedule, or by a signed webhook."""

    kind: Literal["manual", "schedule", "webhook"] = "manual"


class AgentConfig(_Config):
    """An agent runs a templated instruction with the run's principal's permissions."""

    agent: str = Field(min_length=1, max_length=64, description="The agent's name.")
    instruction: Template = Field(min_length=1)
    max_steps: int = Field(default=6, ge=1, le=20, description="Model turns at most.")


class ToolConfig(_Config):
    """One tool call with templated arguments (every string inside `arguments` is a template)."""

    agent: str = Field(min_length=1, max_length=64)
    tool: str = Field(min_length=1, max_length=64)
    arguments: dict[str, Any] = Field(default_factory=dict)


Operator = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_contains", "in", "not_in", "empty", "not_empty"
]


class Comparison(_Config):
    """`left op right`, where `left` (and `right` when it is a string) are templates; data, never code."""

    left: Template
    op: Operator
    right: Any = None


class ConditionConfig(_Config):
    """True or false; the edges after it say `when: "true"` or `when: "false"`."""

    conditions: list[Comparison] = Field(min_length=1, max_length=20)
    combine: Literal["all", "any"] = "all"


class Route(_Config):
    """A named branch of a router, taken when its comparisons hold."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    conditions: list[Comparison] = Field(min_length=1, max_length=20)
    combine: Literal["all", "any"] = "all"


class RouterConfig(_Config):
    """The first matching route (or all of them); edges say `when: "<route name>"` or `when: "default"`."""

    routes: list[Route] = Field(min_length=1, max_length=20)
    mode: Literal["first", "all"] = "first"


class MergeConfig(_Config):
    """Joins branches: waits for all that actually ran, any one, or N of them."""

    mode: Literal["all", "any", "count"] = "all"
    count: int | None = Field(default=None, ge=1, le=50)

    @model_validator(mode="after")
    def _count_with_count_mode(self) -> MergeConfig:
        if (self.mode == "count") != (self.count is not None):
            raise ValueError("count is required with mode 'count' and only then")
        return self


class LoopConfig(_Config):
    """Maps a sequence of inline steps over a list; templates inside see `item` and `index`."""

    items: Template = Field(description="A template that renders to a JSON list, e.g. '{{ nodes.fetch.output.rows }}'.")
    steps: list[Node] = Field(min_length=1, max_length=10, description="Run in order for each item.")
    max_items: int = Field(default=100, ge=1, le=1000)
    concurrency: int = Field(default=4, ge=1, le=20)


class Approvers(_Config):
    """Who may decide: listed users, members of groups, holders of org roles."""

    users: list[str] = Field(default_factory=list, max_length=100)
    groups: list[str] = Field(default_factory=list, max_length=50)
    roles: list[Literal["owner", "admin", "member"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self) -> Approvers:
        if not (self.users or self.groups or self.roles):
            raise ValueError("name at least one approver: users, groups or roles")
        return self


class ApprovalConfig(_Config):
    """Parks the run until people decide; `approved` continues, `rejected` and `timeout` are edges."""

    approvers: Approvers
    mode: Literal["any", "all", "quorum"] = "any"
    quorum: int | None = Field(default=None, ge=1, le=100)
    title: Template = Field(min_length=1, max_length=500)
    description: Template | None = None
    show: dict[str, Template] = Field(
        default_factory=dict, max_length=20, description="Label -> template: the outputs approvers see."
    )
    allow_self_approval: bool = False
    timeout_hours: float = Field(default=24, gt=0, le=24 * 30)
    on_timeout: Literal["reject", "approve", "skip", "timeout_edge"] = "reject"

    @model_validator(mode="after")
    def _quorum_with_quorum_mode(self) -> ApprovalConfig:
        if (self.mode == "quorum") != (self.quorum is not None):
            raise ValueError("quorum is required with mode 'quorum' and only then")
        return self


class DelayConfig(_Config):
    """Waits a duration or until a time, holding no worker."""

    seconds: float | None = Field(default=None, gt=0, le=30 * 24 * 3600)
    until: Template | None = Field(default=None, description="A template that renders to an ISO 8601 time.")

    @model_validator(mode="after")
    def _one_of(self) -> DelayConfig:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("give exactly one of seconds or until")
        return self


class TransformConfig(_Config):
    """Builds JSON: every string inside `value` is a template; a string that renders to JSON is parsed."""

    value: Any


class DeliveryConfig(_Config):
    """Sends the result somewhere: a signed outbound webhook, mail through the Mailer, or a connector's tool."""

    channel: Literal["webhook", "mail", "tool"]
    url: str | None = Field(default=None, max_length=2000, description="webhook: where to POST.")
    body: Any = Field(default=None, description="webhook: the JSON body (strings are templates).")
    to: list[str] = Field(default_factory=list, max_length=50, description="mail: recipients.")
    subject: Template | None = None
    text: Template | None = None
    agent: str | None = Field(default=None, max_length=64, description="tool: the agent (a connector, e.g. slack).")
    tool: str | None = Field(default=None, max_length=64, description="tool: the tool, e.g. slack_post_message.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="tool: the arguments (strings are templates).")

    @model_validator(mode="after")
    def _channel_fields(self) -> DeliveryConfig:
        if self.channel == "webhook" and not self.url:
            raise ValueError("a webhook delivery needs url")
        if self.channel == "mail" and not (self.to and self.subject):
            raise ValueError("a mail delivery needs to and subject")
        if self.channel == "tool" and not (self.agent and self.tool):
            raise ValueError("a tool delivery needs agent and tool")
        return self


class SubworkflowConfig(_Config):
    """Runs a pinned version of another workflow of the org and waits for it."""

    workflow_id: str
    version: int = Field(ge=1)
    input: Any = None


NODE_CONFIGS: dict[str, type[BaseModel]] = {
    "trigger": TriggerConfig,
    "agent": AgentConfig,
    "tool": ToolConfig,
    "condition": ConditionConfig,
    "router": RouterConfig,
    "merge": MergeConfig,
    "loop": LoopConfig,
    "approval": ApprovalConfig,
    "delay": DelayConfig,
    "transform": TransformConfig,
    "delivery": DeliveryConfig,
    "subworkflow": SubworkflowConfig,
}
NodeType = Literal[
    "trigger",
    "agent",
    "tool",
    "condition",
    "router",
    "merge",
    "loop",
    "approval",
    "delay",
    "transform",
    "delivery",
    "subworkflow",
]


# --- nodes, edges, definitions ----------------------------------------------------------------


class RetryPolicy(_Config):
    """How often a failed step is tried again, and how long it waits between tries."""

    attempts: int = Field(default=1, ge=1, le=10)
    delay_seconds: float = Field(default=1.0, ge=0, le=3600)
    backoff: float = Field(default=2.0, ge=1, le=10)
    jitter: float = Field(default=0.1, ge=0, le=1)


class Node(_Config):
    """One step of a workflow. `config` is checked against its type's model (`node_config`)."""

    id: NodeId
    type: NodeType
    name: str | None = Field(default=None, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout_seconds: float | None = Field(default=None, gt=0, le=24 * 3600)


class Edge(_Config):
    """`from` -> `to`, followed when the source's branch is `when` (None: always)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    source: NodeId = Field(alias="from")
    target: NodeId = Field(alias="to")
    when: str | None = Field(default=None, max_length=40)


class WorkflowSettings(_Config):
    """Settings of one workflow."""

    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone for schedules.")
    max_concurrent_runs: int = Field(default=10, ge=1, le=1000)
    failure_threshold: int = Field(
        default=5, ge=1, le=100, description="Consecutive failed runs that put the workflow in status 'error'."
    )


class Definition(_Config):
    """A whole workflow as saved: every save is a new immutable version of it."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    nodes: list[Node] = Field(min_length=1, max_length=200)
    edges: list[Edge] = Field(default_factory=list, max_length=1000)
    settings: WorkflowSettings = Field(default_factory=WorkflowSettings)


LoopConfig.model_rebuild()


def node_config(node: Node) -> BaseModel:
    """The node's config as its type's model; raises pydantic's ValidationError when it does not fit."""
    return NODE_CONFIGS[node.type].model_validate(node.config)


def branches(node: Node) -> tuple[str, ...] | None:
    """The `when` values an edge leaving `node` may carry (None: only edges without `when`)."""
    if node.type == "condition":
        return ("true", "false")
    if node.type == "router":
        names = tuple(route["name"] for route in node.config.get("routes", []) if isinstance(route, dict))
        return (*names, "default")
    if node.type == "approval":
        return ("approved", "rejected", "timeout")
    return None

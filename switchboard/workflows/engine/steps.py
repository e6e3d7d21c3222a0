"""What a step is while it runs, and how it can end: done, parked, or failed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from switchboard.platform.events import Audience
from switchboard.workflows.definition import Node
from switchboard.workflows.engine.graph import Graph, output_scope

if TYPE_CHECKING:
    from switchboard.platform.auth import Principal
    from switchboard.workflows.engine.runner import Engine


def run_stream(run_id: uuid.UUID | str) -> str:
    """A run's event stream."""
    return f"workflow:{run_id}"


@dataclass
class RunContext:
    """What every step of one run shares; a worker keeps it while it carries the run from step to step."""

    id: uuid.UUID
    org_id: uuid.UUID
    workflow_id: uuid.UUID
    version: int
    input: Any
    acting_user_id: uuid.UUID
    trigger: str
    graph: Graph
    outputs: dict[str, Any] = field(default_factory=dict)
    outputs_loaded: bool = False
    principal: Principal | None = None
    policies: Any = None  # the principal's agent settings (a PolicySet), read with it
    principal_at: float = 0.0

    @property
    def stream(self) -> str:
        """The run's event stream."""
        return run_stream(self.id)

    @property
    def audience(self) -> Audience:
        """Who sees the run's events on the org's live stream: the whole org (runs are org-wide)."""
        return run_audience(self.org_id)


def run_audience(org_id: uuid.UUID) -> Audience:
    """A workflow run's live audience: everyone in its org."""
    return Audience(org_id, "workflow")


@dataclass
class StepRun:
    """One step being run by this worker: its journal row's identity and the run it belongs to."""

    id: uuid.UUID
    node: Node
    iteration: int
    attempt: int
    ready_at: datetime | None
    started_at: datetime
    state: dict[str, Any] | None
    approval_id: uuid.UUID | None
    child_run_id: uuid.UUID | None
    run: RunContext
    engine: Engine
    owner: str

    @property
    def idempotency_key(self) -> str:
        """The same on every attempt of this step: tools and deliveries key their outside effects by it."""
        return f"wfstep_{self.id.hex}"

    def scope(self, **extra: Any) -> dict[str, Any]:
        """What this step's templates see."""
        return output_scope(self.run.input, self.run.outputs, **extra)


@dataclass
class Done:
    """The step finished: its output, the branch it took (None: the plain edges) and notes for the run log."""

    output: Any = None
    branch: str | None = None
    input: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    status: str = "completed"


@dataclass
class Park:
    """The step waits (for people, a time or a child run) holding no worker."""

    waiting_for: str
    input: Any = None
    state: dict[str, Any] | None = None
    resume_at: datetime | None = None
    approval_id: uuid.UUID | None = None
    child_run_id: uuid.UUID | None = None
    event: tuple[str, str, dict[str, Any]] | None = None


class StepFailed(Exception):
    """The step failed: a code and a message people can read; `retryable` failures use the node's retries."""

    def __init__(self, code: str, message: str, *, retryable: bool = True, input: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable, self.input = code, message, retryable, input

    def as_dict(self) -> dict[str, Any]:
        """The error as the journal keeps it."""
        return {"code": self.code, "message": self.message}

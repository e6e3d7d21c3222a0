"""Request and response bodies of the run routes (they also feed the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from switchboard.platform.query import QueryArgs
from switchboard.workflows.models import WorkflowRun, WorkflowStep

RunStatus = Literal["pending", "running", "awaiting_approval", "completed", "failed", "cancelled"]


class RunIn(BaseModel):
    """A manual start: the run's input (templates see it as `input`)."""

    model_config = ConfigDict(extra="forbid")

    input: Any = Field(default=None, description="Any JSON; templates see it as `input`.")


class RunAccepted(BaseModel):
    """A run was queued."""

    run_id: UUID
    status: RunStatus


class RunQuery(QueryArgs):
    """Which runs to list."""

    status: RunStatus | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class RunSummary(BaseModel):
    """One run in a list."""

    id: UUID
    workflow_id: UUID
    version: int
    status: RunStatus
    trigger: str
    started_by: UUID | None
    acting_user_id: UUID
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunPage(BaseModel):
    """A page of runs, newest first."""

    items: list[RunSummary]
    total: int
    limit: int
    offset: int


class Attempt(BaseModel):
    """One attempt of a step: what it was given, what it gave back or why it failed, and when."""

    attempt: int
    status: str
    input: Any = None
    output: Any = None
    error: dict[str, Any] | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    agent: str | None = None
    tools: list[str] | None = None
    conditions: list[dict[str, Any]] | None = None


class StepOut(BaseModel):
    """One journal row: a node's step (one per loop item for a loop's inline steps)."""

    id: UUID
    node_id: str
    node_type: str
    iteration: int
    status: Literal["pending", "running", "waiting", "completed", "failed", "skipped"]
    waiting_for: str | None = Field(description="approval | confirmation | delay | subworkflow while waiting.")
    approval_id: UUID | None
    child_run_id: UUID | None
    attempt: int
    attempts: list[Attempt]
    input: Any
    output: Any
    error: dict[str, Any] | None
    branch: str | None = Field(description="The edge taken: true/false, a route, approved/rejected/timeout.")
    condition_result: bool | None
    agent: str | None
    tools_used: list[str]
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class RunOut(RunSummary):
    """A run and its journal."""

    input: Any
    output: Any
    steps: list[StepOut]


class TimelineEntry(BaseModel):
    """Where one step's time went."""

    node_id: str
    iteration: int
    status: str
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    queue_wait_ms: float | None = Field(description="From queued to started (the last attempt).")
    run_ms: float | None = Field(description="From started to finished, less any wait for people.")
    waiting_for_people_ms: float = Field(description="Time parked on an approval or a confirmation.")


class TimelineOut(BaseModel):
    """A run's steps on a time line."""

    run_id: UUID
    status: RunStatus
    created_at: datetime
    finished_at: datetime | None
    steps: list[TimelineEntry]


def run_summary(run: WorkflowRun) -> RunSummary:
    """A run for a list."""
    return RunSummary(
        id=run.id,
        workflow_id=run.workflow_id,
        version=run.version,
        status=run.status,
        trigger=run.trigger,
        started_by=run.started_by,
        acting_user_id=run.acting_user_id,
        error=run.error,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def step_out(step: WorkflowStep) -> StepOut:
    """A journal row for the run's detail."""
    attempts = [Attempt.model_validate(a) for a in step.attempts or []]
    last = (step.attempts or [{}])[-1] if step.attempts else {}
    output = step.output if isinstance(step.output, dict) else {}
    tools = last.get("tools") or (output.get("tools_used") if step.node_type == "agent" else None) or []
    return StepOut(
        id=step.id,
        node_id=step.node_id,
        node_type=step.node_type,
        iteration=step.iteration,
        status=step.status,
        waiting_for=step.waiting_for,
        approval_id=step.approval_id,
        child_run_id=step.child_run_id,
        attempt=step.attempt,
        attempts=attempts,
        input=step.input,
        output=step.output,
        error=step.error,
        branch=step.branch,
        condition_result=output.get("result") if step.node_type == "condition" else None,
        agent=last.get("agent"),
        tools_used=list(tools),
        queued_at=step.ready_at,
        started_at=step.started_at,
        finished_at=step.finished_at,
    )


def timeline_entry(step: WorkflowStep) -> TimelineEntry:
    """One step's times."""

    def ms(a: datetime | None, b: datetime | None) -> float | None:
        return None if a is None or b is None else max(0.0, (b - a).total_seconds() * 1000)

    waited = step.waited_seconds * 1000 if step.waiting_for in (None, "approval", "confirmation") else 0.0
    if step.status == "waiting" and step.waiting_for in ("approval", "confirmation") and step.started_at:
        from datetime import UTC

        waited = ms(step.started_at, datetime.now(UTC)) or 0.0
    run = ms(step.started_at, step.finished_at)
    return TimelineEntry(
        node_id=step.node_id,
        iteration=step.iteration,
        status=step.status,
        queued_at=step.ready_at,
        started_at=step.started_at,
        finished_at=step.finished_at,
        queue_wait_ms=ms(step.ready_at, step.started_at),
        run_ms=None if run is None else max(0.0, run - waited),
        waiting_for_people_ms=waited,
    )

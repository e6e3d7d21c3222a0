"""Request and response bodies of schedules, webhooks, the tick, templates, generation and the flows dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from switchboard.platform.query import MAX_QUERY_INT, QueryArgs
from switchboard.workflows.schemas import WorkflowOut

# text without NUL (PostgreSQL stores none)
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]


def _plausible(moment: datetime) -> datetime:
    if not 1970 <= moment.year <= 2999:
        raise ValueError("a time between the years 1970 and 2999")
    return moment


# a time with its offset, in years cron can step through
Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListQuery(QueryArgs):
    """Which slice of a list."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


# --- schedules ----------------------------------------------------------------------------------------


class ScheduleIn(_In):
    """A cron schedule: 5 fields or an alias (`@hourly`, `@daily`, ...), read in an IANA time zone."""

    cron: str = Field(
        min_length=1, max_length=120, pattern=r"^[@A-Za-z0-9*,/\- ?]+$", examples=["30 2 * * *", "@hourly"]
    )
    timezone: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_+\-/]+$",
        description="An IANA name (default: the workflow's settings.timezone).",
        examples=["Europe/Berlin"],
    )
    overlap: Literal["skip", "allow", "queue_one"] = Field(
        "skip", description="When a run it started is still going: skip the fire, start anyway, or queue one."
    )
    missed: Literal["skip", "run_once", "catch_up"] = Field(
        "run_once", description="Fire times missed while nothing ticked: drop, run the latest once, or run each."
    )
    catch_up_limit: int = Field(10, ge=1, le=1000, description="With missed=catch_up: the latest N missed fires run.")
    input: Any = Field(None, description="The input of every run it starts.")
    starts_at: Moment | None = Field(None, description="No fire before this time.")


class ScheduleOut(BaseModel):
    """A schedule and its next five fire times (UTC)."""

    id: UUID
    workflow_id: UUID
    cron: str
    timezone: str
    overlap: str
    missed: str
    catch_up_limit: int
    input: Any = None
    paused: bool
    starts_at: datetime | None
    next_fire_at: datetime
    next_fire_times: list[datetime]
    last_fire_at: datetime | None
    last_run_id: UUID | None
    missed_count: int
    created_by: UUID
    created_at: datetime


class SchedulePage(BaseModel):
    """A slice of schedules."""

    items: list[ScheduleOut]
    total: int
    limit: int
    offset: int


class TickIn(_In):
    """A manual tick; `now` (superadmins only, as this route is) sets the dispatcher's clock for this tick."""

    now: Moment | None = Field(None, description="The time to tick at (default: the server's clock).")


class TickOut(BaseModel):
    """What the tick did."""

    now: datetime
    started: int = Field(description="Runs started.")
    skipped: int = Field(description="Fire times skipped because a run of the schedule was still going.")
    queued: int = Field(description="Fire times queued behind a running run (overlap queue_one).")
    missed: int = Field(description="Fire times dropped by the missed-fire policy.")
    inactive: int = Field(description="Fire times of workflows that are not active (no run).")
    run_ids: list[UUID]


# --- webhooks -------------------------------------------------------------------------------------------


class WebhookOut(BaseModel):
    """Where to send deliveries, and a ready `curl` line that signs one."""

    url: str
    token: str
    has_secret: bool
    previous_secret_valid_until: datetime | None
    curl: str


class WebhookSecretOut(BaseModel):
    """The new signing secret, shown this once; the previous one verifies until `previous_valid_until`."""

    secret: str = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
    previous_valid_until: datetime | None
    url: str
    curl: str


class WebhookAccepted(BaseModel):
    """A delivery that started (202) or had already started (200, same `webhook-id`) a run."""

    run_id: UUID
    status: Literal["accepted", "duplicate"]


# --- templates, generation ----------------------------------------------------------------------------


class TemplateOut(BaseModel):
    """A ready workflow to start from."""

    name: str
    title: str
    description: str
    category: str
    definition: dict[str, Any]


class TemplateList(BaseModel):
    """Every template."""

    items: list[TemplateOut]


class UseTemplateIn(_In):
    """Optionally a name for the new draft."""

    name: Text | None = Field(None, min_length=1, max_length=200)


class GenerateIn(_In):
    """What the workflow should do, in a sentence or a few."""

    description: Text = Field(min_length=3, max_length=4000)


class GeneratedWorkflow(WorkflowOut):
    """A draft written by the model, and how many repairs it took."""

    repairs: int = Field(description="Answers sent back to the model with validation errors (0-2).")


class AgentSuggestion(BaseModel):
    """An agent the caller may use, scored by how close its description is to the node's instruction."""

    agent: str
    description: str
    score: float


class SuggestionsOut(BaseModel):
    """Agents best first."""

    node_id: str
    items: list[AgentSuggestion]


# --- flows dashboard --------------------------------------------------------------------------------


class LatestRun(BaseModel):
    """A run in the dashboard."""

    id: UUID
    workflow_id: UUID
    workflow_name: str
    status: str
    trigger: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None


class LatestRunsQuery(QueryArgs):
    """How many of the latest runs."""

    limit: int = Field(8, ge=1, le=100)


class RunList(BaseModel):
    """Runs, newest first."""

    items: list[LatestRun]


class Metrics(BaseModel):
    """Counts and durations of runs."""

    total: int
    succeeded: int
    failed: int
    running: int
    p50_duration_ms: int | None
    p95_duration_ms: int | None
    last_run_at: datetime | None


class WorkflowMetrics(Metrics):
    """One workflow's metrics."""

    workflow_id: UUID
    workflow_name: str


class MetricsQuery(QueryArgs):
    """Metrics over the last `days` days."""

    days: int = Field(30, ge=1, le=366)
    workflow_id: UUID | None = None


class MetricsOut(BaseModel):
    """The org's metrics and each workflow's (busiest first)."""

    days: int
    org: Metrics
    workflows: list[WorkflowMetrics]


class LogQuery(QueryArgs):
    """Log entries after a cursor."""

    after: int = Field(0, ge=0, le=MAX_QUERY_INT, description="The `seq` of the last entry already read.")
    limit: int = Field(50, ge=1, le=200)


class LogEntry(BaseModel):
    """One step attempt's record."""

    seq: int
    step_id: UUID
    node_id: str
    node_type: str
    iteration: int
    attempt: int
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    error: Any = None
    output: Any = None


class LogPage(BaseModel):
    """Log entries and the cursor for the next page (null at the end)."""

    items: list[LogEntry]
    next_after: int | None


class UsageOut(BaseModel):
    """Runs this calendar month (UTC) against the org's allowance."""

    period_start: datetime
    period_end: datetime
    runs: int
    limit: int
    remaining: int

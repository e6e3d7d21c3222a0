"""Workflows, their immutable versions, runs and the step journal (the `workflows` app)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

WORKFLOW_STATUSES = ("draft", "active", "paused", "error", "archived")


class Workflow(Model):
    """A workflow of an org: its current version number and status; the definitions live in versions."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    owner_id = fields.UUIDField(description="The user schedules and webhooks run as.")
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    status = fields.CharField(max_length=16, default="draft", db_index=True)
    version = fields.IntField(default=1, description="The latest version's number.")
    trigger_kind = fields.CharField(max_length=16, default="manual")
    consecutive_failures = fields.IntField(default=0)
    deleted_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "workflows"


class WorkflowVersion(Model):
    """One save of a workflow, never changed afterwards: a run finishes on the version it started with."""

    id = fields.UUIDField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "workflows.Workflow", related_name="versions", on_delete=fields.CASCADE
    )
    workflow_id: uuid.UUID
    org_id = fields.UUIDField(db_index=True)
    version = fields.IntField()
    # {name, description, nodes, edges, settings} exactly as `definition.Definition` dumps it
    definition: dict[str, Any] = fields.JSONField()
    change_summary = fields.TextField(default="")
    author_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workflow_versions"
        unique_together = (("workflow", "version"),)


# --- runs and the step journal (the engine) -------------------------------------------------------

RUN_STATUSES = ("pending", "running", "awaiting_approval", "completed", "failed", "cancelled")
ACTIVE_RUN_STATUSES = ("pending", "running", "awaiting_approval")
STEP_STATUSES = ("pending", "running", "waiting", "completed", "failed", "skipped")
TERMINAL_STEP_STATUSES = ("completed", "failed", "skipped")


class WorkflowRun(Model):
    """One run of one version of a workflow; its steps are the journal (`WorkflowStep`)."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "workflows.Workflow", related_name="runs", on_delete=fields.CASCADE
    )
    workflow_id: uuid.UUID
    version = fields.IntField(description="The version the run started with and finishes on.")
    status = fields.CharField(max_length=20, default="pending", db_index=True)
    trigger = fields.CharField(max_length=16, default="manual")
    input: Any = fields.JSONField(null=True)
    output: Any = fields.JSONField(null=True)
    error: dict[str, Any] | None = fields.JSONField(null=True)
    acting_user_id = fields.UUIDField(description="Whose permissions the steps run with.")
    started_by = fields.UUIDField(null=True)
    parent_step_id = fields.UUIDField(null=True, description="The subworkflow step waiting for this run.")
    open_steps = fields.IntField(default=0, description="Steps not yet completed, failed or skipped.")
    idempotency_key = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at: datetime | None = fields.DatetimeField(null=True)
    finished_at: datetime | None = fields.DatetimeField(null=True)

    class Meta:
        table = "workflow_runs"
        unique_together = (("workflow", "idempotency_key"),)


class WorkflowStep(Model):
    """The journal row of one (run, node, iteration): moved by conditional updates, so each runs once.

    `status` pending -> running -> completed | failed | skipped; `waiting` (with `waiting_for`:
    approval, delay, subworkflow, confirmation) is a parked step that holds no worker. A pending step
    is queued once `ready_at` is set; `remaining`/`taken` count its incoming edges resolved and taken.
    """

    id = fields.UUIDField(primary_key=True)
    run: fields.ForeignKeyRelation[WorkflowRun] = fields.ForeignKeyField(
        "workflows.WorkflowRun", related_name="steps", on_delete=fields.CASCADE
    )
    run_id: uuid.UUID
    node_id = fields.CharField(max_length=100)
    iteration = fields.IntField(default=0)
    node_type = fields.CharField(max_length=16)
    status = fields.CharField(max_length=16, default="pending")
    waiting_for = fields.CharField(max_length=16, null=True)
    remaining = fields.IntField(default=0, description="Incoming edges not yet resolved.")
    taken = fields.IntField(default=0, description="Incoming edges resolved as taken.")
    need = fields.IntField(default=1, description="Taken edges needed to be ready.")
    wait_all = fields.BooleanField(default=True, description="Ready only once every incoming edge is resolved.")
    ready_at: datetime | None = fields.DatetimeField(null=True, description="When it was queued.")
    resume_at: datetime | None = fields.DatetimeField(null=True, description="A delay's or a retry's due time.")
    started_at: datetime | None = fields.DatetimeField(null=True)
    finished_at: datetime | None = fields.DatetimeField(null=True)
    attempt = fields.IntField(default=0)
    attempts: list[dict[str, Any]] = fields.JSONField(default=list)
    input: Any = fields.JSONField(null=True)
    output: Any = fields.JSONField(null=True)
    error: dict[str, Any] | None = fields.JSONField(null=True)
    branch = fields.CharField(max_length=40, null=True, description="The branch taken (the `when` of its edges).")
    state: dict[str, Any] | None = fields.JSONField(null=True, description="What a parked step resumes with.")
    approval_id = fields.UUIDField(null=True)
    child_run_id = fields.UUIDField(null=True)
    waited_seconds = fields.FloatField(default=0, description="Time spent waiting for people.")
    lease_owner = fields.CharField(max_length=128, null=True)
    lease_until: datetime | None = fields.DatetimeField(null=True)

    class Meta:
        table = "workflow_steps"
        unique_together = (("run", "node_id", "iteration"),)


from switchboard.workflows.trigger_models import *  # noqa: E402, F403

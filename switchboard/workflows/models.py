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


from switchboard.workflows.trigger_models import *  # noqa: E402, F403

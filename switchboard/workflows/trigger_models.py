"""What starts workflows without a person: schedules and their fire times, webhook triggers and their deliveries.

Imported at the end of `models`, so they belong to the `workflows` Tortoise app.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["ScheduleFire", "WebhookDelivery", "WebhookTrigger", "WorkflowSchedule"]


class WorkflowSchedule(Model):
    """A cron schedule of a workflow: fires in its time zone, the next fire time kept in UTC."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    workflow: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "workflows.Workflow", related_name="schedules", on_delete=fields.CASCADE
    )
    workflow_id: uuid.UUID
    created_by = fields.UUIDField()
    cron = fields.CharField(max_length=120, description="5-field cron, aliases expanded.")
    timezone = fields.CharField(max_length=64)
    overlap = fields.CharField(max_length=16, default="skip", description="skip | allow | queue_one")
    missed = fields.CharField(max_length=16, default="run_once", description="skip | run_once | catch_up")
    catch_up_limit = fields.IntField(default=10)
    # JSON text: the ORM's JSON field cannot hold a bare string (it takes a str for JSON text)
    input_json: str | None = fields.TextField(null=True, description="The runs' input, as JSON text.")

    @property
    def input(self) -> Any:
        """The input of every run it starts."""
        return None if self.input_json is None else json.loads(self.input_json)

    paused = fields.BooleanField(default=False)
    starts_at: datetime | None = fields.DatetimeField(null=True)
    next_fire_at = fields.DatetimeField(description="UTC; the dispatcher's index.")
    last_fire_at: datetime | None = fields.DatetimeField(null=True)
    last_run_id = fields.UUIDField(null=True, description="The latest run it started: what overlap looks at.")
    missed_count = fields.IntField(default=0, description="Fire times dropped by the missed-fire policy.")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "workflow_schedules"


class ScheduleFire(Model):
    """One fire time of a schedule, claimed once: unique (schedule, fire time), written with the run it starts."""

    id = fields.BigIntField(primary_key=True)
    schedule: fields.ForeignKeyRelation[WorkflowSchedule] = fields.ForeignKeyField(
        "workflows.WorkflowSchedule", related_name="fires", on_delete=fields.CASCADE
    )
    schedule_id: uuid.UUID
    fire_time = fields.DatetimeField()
    run_id = fields.UUIDField(null=True)
    outcome = fields.CharField(max_length=16, description="started | skipped | queued")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workflow_schedule_fires"
        unique_together = (("schedule", "fire_time"),)


class WebhookTrigger(Model):
    """A workflow's inbound webhook: its URL token and signing secrets (encrypted; the previous one while rotating)."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    workflow: fields.OneToOneRelation[Any] = fields.OneToOneField(
        "workflows.Workflow", related_name="webhook", on_delete=fields.CASCADE
    )
    workflow_id: uuid.UUID
    token = fields.CharField(max_length=64, unique=True)
    secret_encrypted: str | None = fields.TextField(null=True)
    previous_secret_encrypted: str | None = fields.TextField(null=True)
    previous_valid_until: datetime | None = fields.DatetimeField(null=True)
    rotated_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workflow_webhooks"


class WebhookDelivery(Model):
    """A verified delivery, by its `webhook-id`: a second delivery with the same id starts nothing."""

    id = fields.BigIntField(primary_key=True)
    webhook: fields.ForeignKeyRelation[WebhookTrigger] = fields.ForeignKeyField(
        "workflows.WebhookTrigger", related_name="deliveries", on_delete=fields.CASCADE
    )
    webhook_id: uuid.UUID
    message_id = fields.CharField(max_length=255)
    run_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workflow_webhook_deliveries"
        unique_together = (("webhook", "message_id"),)

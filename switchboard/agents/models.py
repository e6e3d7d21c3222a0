"""Stored agent settings (the `agents` app): access per tier, users' own tool preferences, BYOK model settings.

Each row of `AgentPolicy` is one tier's settings for one agent. Its `scope` says whose they
are in one unique string (`platform`, `org:<org>`, `group:<group>`, `user:<org>:<user>`,
`preference:<org>:<user>`), so "one row per scope and agent" is a plain unique constraint
(a NULL in a composite unique key would never collide in PostgreSQL).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from switchboard.platform.identity.models import User
    from switchboard.platform.orgs.models import Group, Org

PolicyTier = Literal["platform", "organization", "group", "user", "preference"]


def policy_scope(
    tier: PolicyTier,
    org_id: uuid.UUID | None = None,
    group_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> str:
    """The unique scope string of one tier's settings."""
    if tier == "platform":
        return "platform"
    if tier == "organization":
        return f"org:{org_id}"
    if tier == "group":
        return f"group:{group_id}"
    return f"{tier}:{org_id}:{user_id}"


class AgentPolicy(Model):
    """One tier's settings for one agent: access to the agent, access per tool, confirmation per tool."""

    id = fields.UUIDField(primary_key=True)
    tier = fields.CharField(max_length=16, db_index=True)
    scope = fields.CharField(max_length=120)
    org: fields.ForeignKeyNullableRelation[Org] = fields.ForeignKeyField(
        "platform.Org", related_name=None, null=True, on_delete=fields.CASCADE
    )
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "platform.Group", related_name=None, null=True, on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=None, null=True, on_delete=fields.CASCADE
    )
    org_id: uuid.UUID | None
    group_id: uuid.UUID | None
    user_id: uuid.UUID | None
    agent = fields.CharField(max_length=64)
    access = fields.CharField(max_length=8, default="inherit")
    tools: dict[str, str] = fields.JSONField(default=dict)  # tool name -> allow | deny (inherit is not stored)
    confirm: dict[str, bool] = fields.JSONField(default=dict)  # tool name -> confirmation required
    updated_by_id = fields.UUIDField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "agent_policies"
        unique_together = (("scope", "agent"),)


class ModelSettings(Model):
    """A model endpoint a user (or a whole org) brings: provider, URL, models and an encrypted API key."""

    id = fields.UUIDField(primary_key=True)
    # `user:<org>:<user>` or `org:<org>`: one configuration per owner.
    owner = fields.CharField(max_length=120, unique=True)
    org: fields.ForeignKeyRelation[Org] = fields.ForeignKeyField(
        "platform.Org", related_name=None, on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "platform.User", related_name=None, null=True, on_delete=fields.CASCADE
    )
    org_id: uuid.UUID
    user_id: uuid.UUID | None
    provider = fields.CharField(max_length=32)
    base_url = fields.CharField(max_length=500)
    chat_model = fields.CharField(max_length=200)
    embedding_model = fields.CharField(max_length=200, null=True)
    # Fernet token of the key under a key derived from SECRET_KEY; the key itself is never stored or returned.
    api_key_encrypted: str | None = fields.TextField(null=True)
    api_key_hint = fields.CharField(max_length=16, null=True)  # last characters, to recognise it
    validated_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "model_settings"


class UsageRecord(Model):
    """Tokens one model call spent, for whom and for what (a chat task, a workflow step, a direct call, a
    document's embedding)."""

    id = fields.BigIntField(primary_key=True)
    org_id = fields.UUIDField()
    user_id = fields.UUIDField()
    subject_type = fields.CharField(max_length=16)  # chat_task | workflow_step | provider_call | ingest
    subject_id = fields.CharField(max_length=64)
    model = fields.CharField(max_length=200)
    prompt_tokens = fields.IntField(default=0)
    completion_tokens = fields.IntField(default=0)
    total_tokens = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "usage_records"
        indexes = (("subject_type", "subject_id"), ("org_id", "created_at"))

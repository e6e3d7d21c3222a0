"""Conversations, messages, chat tasks and memories (the `chat` app); approvals live in `switchboard.approvals`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.models import Model

ACTIVE_STATUSES = ("queued", "processing", "awaiting_approval")
TERMINAL_STATUSES = ("completed", "error", "cancelled")


class Conversation(Model):
    """A thread of messages between a user and the agents."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    user_id = fields.UUIDField(db_index=True)
    title = fields.CharField(max_length=200, default="")
    # the agent of a direct agent run (its conversation is not listed among the chats); None for a chat
    agent = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "conversations"


class Message(Model):
    """One message of a conversation; an assistant message carries its citations."""

    id = fields.UUIDField(primary_key=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "chat.Conversation", related_name="messages", on_delete=fields.CASCADE
    )
    conversation_id: uuid.UUID
    role = fields.CharField(max_length=16)  # user | assistant
    content = fields.TextField()
    citations: list[dict[str, Any]] = fields.JSONField(default=list)
    task_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "messages"


class ChatTask(Model):
    """One question being answered: its mode, status, progress state and final answer."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    user_id = fields.UUIDField(db_index=True)
    conversation: fields.ForeignKeyRelation[Conversation] = fields.ForeignKeyField(
        "chat.Conversation", related_name="tasks", on_delete=fields.CASCADE
    )
    conversation_id: uuid.UUID
    question = fields.TextField()
    mode = fields.CharField(max_length=16, default="auto")
    # a direct agent run (mode `agent`): the one agent whose tools the model is offered
    agent = fields.CharField(max_length=64, null=True)
    resolved_mode = fields.CharField(max_length=16, null=True)
    status = fields.CharField(max_length=24, default="queued", db_index=True)
    response = fields.TextField(default="")
    citations: list[dict[str, Any]] = fields.JSONField(default=list)
    # completed steps and pending tool calls, so a retried or resumed job never re-runs them
    state: dict[str, Any] = fields.JSONField(default=dict)
    error: str | None = fields.TextField(null=True)
    cancel_requested = fields.BooleanField(default=False)
    attempts = fields.IntField(default=0)
    lease_owner = fields.CharField(max_length=128, null=True)
    lease_until: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at: datetime | None = fields.DatetimeField(null=True)
    finished_at: datetime | None = fields.DatetimeField(null=True)

    class Meta:
        table = "chat_tasks"


class Memory(Model):
    """Something Switchboard remembers about a user, recalled into the planner's context."""

    id = fields.UUIDField(primary_key=True)
    org_id = fields.UUIDField(db_index=True)
    user_id = fields.UUIDField(db_index=True)
    category = fields.CharField(max_length=16, default="memories")  # memories|preferences|facts|patterns
    content = fields.TextField()
    importance = fields.FloatField(default=0.5)
    source_conversation_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "memories"

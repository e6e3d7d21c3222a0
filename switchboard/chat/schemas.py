"""Request and response shapes of the chat, conversation and memory routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from switchboard.platform.pagination import PageQuery

Mode = Literal["auto", "ask", "research", "investigate"]
Category = Literal["memories", "preferences", "facts", "patterns"]


class ChatIn(BaseModel):
    """A question for the agents."""

    message: str = Field(min_length=1, max_length=20_000)
    conversation_id: UUID | None = None
    mode: Mode = "auto"


class TaskAccepted(BaseModel):
    """A task was queued; follow it on `/chat/{task_id}/progress`."""

    task_id: UUID
    status: str
    conversation_id: UUID


class TaskOut(BaseModel):
    """A task's state."""

    task_id: UUID
    status: str
    mode: str
    resolved_mode: str | None
    conversation_id: UUID
    question: str
    created_at: datetime
    finished_at: datetime | None


class ActiveTask(BaseModel):
    """The caller's running or just-finished task, if any."""

    task: TaskOut | None


class ResultOut(BaseModel):
    """A task's answer."""

    task_id: UUID
    status: str
    response: str
    citations: list[dict[str, Any]]
    conversation_id: UUID
    error: str | None = None


class ProgressState(BaseModel):
    """The events of a task, as JSON."""

    task_id: UUID
    status: str
    events: list[dict[str, Any]]


class ConversationOut(BaseModel):
    """A conversation."""

    id: UUID
    title: str
    created_at: datetime
    updated_at: datetime


class ConversationQuery(PageQuery):
    """The caller's conversations, optionally only those whose title or messages contain `q`."""

    q: str | None = Field(None, min_length=1, max_length=200, description="Words in the title or the messages.")


class ConversationPatch(BaseModel):
    """A new title for a conversation."""

    title: str = Field(min_length=1, max_length=200)


class TimelineStep(BaseModel):
    """One step of how an answer was made."""

    type: str
    message: str
    agent: str | None = None
    tool: str | None = None
    at: float = Field(description="When it happened (Unix seconds).")


class MessageOut(BaseModel):
    """A message; an assistant's answer carries its citations, its task's status and its steps."""

    id: UUID
    role: str
    content: str
    citations: list[dict[str, Any]]
    task_id: UUID | None
    created_at: datetime
    status: str | None = Field(None, description="The answering task's status (assistant messages).")
    steps: list[TimelineStep] = Field(default_factory=list, description="The answer's steps, in order.")


class MemoryIn(BaseModel):
    """A memory written by the user."""

    content: str = Field(min_length=1, max_length=2000)
    category: Category = "memories"
    importance: float = Field(0.5, ge=0, le=1)


class MemoryPatch(BaseModel):
    """Memory changes."""

    content: str | None = Field(None, min_length=1, max_length=2000)
    category: Category | None = None
    importance: float | None = Field(None, ge=0, le=1)


class MemoryQuery(PageQuery):
    """Memory list filters."""

    category: Category | None = None


class MemoryOut(BaseModel):
    """A memory."""

    id: UUID
    category: str
    content: str
    importance: float
    created_at: datetime
    updated_at: datetime


class MemoryStats(BaseModel):
    """Memory counts."""

    total: int
    by_category: dict[str, int]
    average_importance: float


class AgentRunIn(BaseModel):
    """An instruction for one agent."""

    instruction: str = Field(min_length=1, max_length=20_000)


class AgentRunAccepted(BaseModel):
    """A run was queued; follow it on `/chat/{run_id}/progress` or read it on `/agents/{agent}/runs/{run_id}`."""

    run_id: UUID
    agent: str
    status: str


class AgentRunOut(BaseModel):
    """One direct run of an agent: its instruction, status, answer and steps."""

    run_id: UUID
    agent: str
    status: str
    instruction: str
    response: str
    citations: list[dict[str, Any]]
    error: str | None
    steps: list[TimelineStep] = Field(description="What the run did, in order (tool calls and approvals included).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

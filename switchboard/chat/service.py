"""Chat tasks: start, follow, cancel, recover after a page refresh; conversations and their messages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery

from switchboard.chat import cancels
from switchboard.chat.models import ACTIVE_STATUSES, TERMINAL_STATUSES, ChatTask, Conversation, Message
from switchboard.platform.auth import Principal
from switchboard.platform.errors import NotFound, TaskActive
from switchboard.platform.events import Audience, Event, EventLog, ending
from switchboard.platform.ids import parse_id
from switchboard.platform.queue import Queue
from switchboard.platform.runtime import Runtime

RECENT_WINDOW = timedelta(minutes=10)


def task_stream(task_id: uuid.UUID | str) -> str:
    """Event stream name of a chat task."""
    return f"chat:{task_id}"


def task_audience(org_id: uuid.UUID, user_id: uuid.UUID) -> Audience:
    """Who sees a chat task's events on the org's live stream: its owner only."""
    return Audience.of_user(org_id, "chat", user_id)


async def get_conversation(principal: Principal, conversation_id: str) -> Conversation:
    """One of the caller's conversations, or NotFound."""
    conversation = await Conversation.get_or_none(
        id=parse_id(conversation_id, "Conversation"), user_id=principal.user_id, org_id=principal.org_id
    )
    if conversation is None:
        raise NotFound("Conversation not found")
    return conversation


# The question's conversation (a new one, or the caller's own), its task and its message, in one
# statement: nothing is half-written, and a POST costs one round trip to the database, not five.
# No row comes back when `conversation_id` names no conversation of the caller's; the partial unique
# index on active tasks refuses a second one (IntegrityError).
_START_TASK = """
WITH created AS (
    INSERT INTO conversations (id, org_id, user_id, title, agent, created_at, updated_at)
    SELECT $1, $2, $3, $4, $10::varchar, now(), now() WHERE $5::uuid IS NULL
    RETURNING id
), target AS (
    SELECT id FROM created
    UNION ALL
    SELECT id FROM conversations WHERE id = $5::uuid AND org_id = $2 AND user_id = $3 AND agent IS NULL
), task AS (
    INSERT INTO chat_tasks (id, org_id, user_id, conversation_id, question, mode, agent, status, response, citations,
                            state, cancel_requested, attempts, created_at)
    SELECT $6, $2, $3, id, $7, $8, $10::varchar, 'queued', '', '[]'::jsonb, '{}'::jsonb, false, 0, now() FROM target
    RETURNING id, conversation_id
)
INSERT INTO messages (id, conversation_id, role, content, citations, task_id, created_at)
SELECT $9, conversation_id, 'user', $7, '[]'::jsonb, id, now() FROM task
RETURNING conversation_id
"""


@dataclass(frozen=True)
class StartedTask:
    """A task just queued."""

    id: uuid.UUID
    conversation_id: uuid.UUID


async def start_task(
    principal: Principal,
    message: str,
    conversation_id: str | None,
    mode: str,
    queue: Queue,
    events: EventLog,
    *,
    agent: str | None = None,
) -> StartedTask:
    """Record the question and its task, then hand it to a worker; one active task per user.

    With `agent`, a direct agent run (mode `agent`, in a conversation of its own that the chat list
    does not show): one active run per user and agent, beside the user's chat task.

    The stream's first event, `queued`, is appended here, so the person sees their question taken
    at once, whatever the workers are busy with.
    """
    existing = parse_id(conversation_id, "Conversation") if conversation_id else None
    task_id = uuid.uuid4()
    try:
        rows = await get_connection("default").execute_query_dict(
            _START_TASK,
            [
                uuid.uuid4(),
                principal.org_id,
                principal.user_id,
                _title(message),
                existing,
                task_id,
                message,
                mode,
                uuid.uuid4(),
                agent,
            ],
        )
    except IntegrityError:
        if agent is not None:
            raise TaskActive(f"You already have a run of {agent} going; wait for it or cancel it") from None
        raise TaskActive("You already have a task running; wait for it or cancel it") from None
    if not rows:
        raise NotFound("Conversation not found")
    task = StartedTask(task_id, rows[0]["conversation_id"])
    await events.append(
        task_stream(task.id),
        "queued",
        "Waiting for a worker",
        audience=task_audience(principal.org_id, principal.user_id),
        conversation_id=str(task.conversation_id),
        data={"mode": mode},
    )
    await queue.enqueue("run_chat_task", str(task.id), job_id=f"chat:{task.id}")
    return task


def _title(message: str) -> str:
    line = " ".join(message.split())
    return line if len(line) <= 80 else line[:77].rstrip() + "..."


async def get_task(principal: Principal, task_id: str) -> ChatTask:
    """One of the caller's tasks, or NotFound (another user's task is not found either)."""
    task = await ChatTask.get_or_none(id=parse_id(task_id, "Task"), user_id=principal.user_id, org_id=principal.org_id)
    if task is None:
        raise NotFound("Task not found")
    return task


async def cancel_task(principal: Principal, task_id: str, runtime: Runtime) -> ChatTask:
    """Ask a running task to stop (its job is woken to stop now); a queued or waiting one stops at once."""
    events = runtime.events
    task = await get_task(principal, task_id)
    if task.status in TERMINAL_STATUSES:
        return task
    if task.status in ("queued", "awaiting_approval"):
        from switchboard.chat.confirmations import void_for_task

        stopped = await ChatTask.filter(id=task.id, status=task.status).update(
            status="cancelled", cancel_requested=True, finished_at=datetime.now(UTC)
        )
        if stopped:
            await void_for_task(task.id, runtime)
            await events.append(
                task_stream(task.id),
                "cancelled",
                "Cancelled by the user",
                audience=task_audience(task.org_id, task.user_id),
            )
            await task.refresh_from_db()
            return task
    await ChatTask.filter(id=task.id).update(cancel_requested=True)
    await cancels.announce(runtime, task.id)
    await task.refresh_from_db()
    return task


async def active_task(principal: Principal) -> ChatTask | None:
    """The caller's running task, else the one that finished in the last few minutes (page-refresh recovery)."""
    running = await ChatTask.filter(
        user_id=principal.user_id, org_id=principal.org_id, agent=None, status__in=ACTIVE_STATUSES
    ).first()
    if running is not None:
        return running
    return (
        await ChatTask.filter(
            user_id=principal.user_id,
            org_id=principal.org_id,
            agent=None,
            finished_at__gte=datetime.now(UTC) - RECENT_WINDOW,
        )
        .order_by("-finished_at")
        .first()
    )


async def task_events(task: ChatTask, events: EventLog) -> list[dict[str, Any]]:
    """The task's events; after the stream's retention they are rebuilt from the database."""
    stored = await events.read_all(task_stream(task.id))
    if stored or task.status not in TERMINAL_STATUSES:
        return [e.as_json() for e in stored]
    return [e.as_json() for e in rebuilt_events(task)]


def ended_events(task: ChatTask) -> list[Event] | None:
    """A finished task's start and end, told once its stream has expired (None while it runs)."""
    return rebuilt_events(task) if task.status in TERMINAL_STATUSES else None


def rebuilt_events(task: ChatTask) -> list[Event]:
    """The start and the end of a finished task whose stream has expired."""
    base = {"task_id": str(task.id), "conversation_id": str(task.conversation_id)}
    started = task.started_at or task.created_at
    finished = task.finished_at or started
    terminal = {"completed": "complete"}.get(task.status, task.status)
    end: dict[str, Any] = (
        {"message": "Answer ready", "response": task.response, "citations": task.citations}
        if task.status == "completed"
        else {"message": task.error or task.status}
    )
    first = {**base, "update_type": "task_started", "message": "Task started", "timestamp": started.timestamp()}
    end |= base
    return [Event(f"{int(started.timestamp() * 1000)}-0", "task_started", first), ending(terminal, finished, **end)]


@dataclass(frozen=True)
class ConversationPage:
    """A page of conversations."""

    items: list[Conversation]
    total: int


async def list_conversations(
    principal: Principal, limit: int, offset: int, words: str | None = None
) -> ConversationPage:
    """The caller's conversations, most recent first; with `words`, those whose title or messages hold them."""
    query = Conversation.filter(user_id=principal.user_id, org_id=principal.org_id, agent=None)
    if words and words.strip():
        words = words.strip()
        in_messages = Message.filter(
            content__icontains=words,
            conversation__user_id=principal.user_id,
            conversation__org_id=principal.org_id,
        ).values_list("conversation_id", flat=True)
        query = query.filter(Q(title__icontains=words) | Q(id__in=Subquery(in_messages)))
    items = await query.order_by("-updated_at").offset(offset).limit(limit)
    return ConversationPage(items, await query.count())


async def list_messages(
    principal: Principal, conversation_id: str, limit: int, offset: int
) -> tuple[list[Message], int]:
    """A conversation's messages, oldest first."""
    conversation = await get_conversation(principal, conversation_id)
    query = Message.filter(conversation_id=conversation.id)
    return await query.order_by("created_at").offset(offset).limit(limit), await query.count()


async def rename_conversation(principal: Principal, conversation_id: str, title: str) -> Conversation:
    """Give a conversation a new title."""
    conversation = await get_conversation(principal, conversation_id)
    conversation.title = " ".join(title.split())[:200] or conversation.title
    await conversation.save(update_fields=["title", "updated_at"])
    return conversation


async def answer_details(messages: list[Message]) -> dict[uuid.UUID, tuple[str, list[dict[str, Any]]]]:
    """For each answering task of these messages: its status and its kept steps."""
    task_ids = {m.task_id for m in messages if m.role == "assistant" and m.task_id}
    if not task_ids:
        return {}
    rows = await ChatTask.filter(id__in=task_ids).values("id", "status", "state")
    return {r["id"]: (r["status"], list((r["state"] or {}).get("timeline", []))) for r in rows}


async def delete_conversation(principal: Principal, conversation_id: str) -> None:
    """Delete a conversation with its messages; a conversation with a running task cannot go."""
    conversation = await get_conversation(principal, conversation_id)
    if await ChatTask.filter(conversation_id=conversation.id, status__in=ACTIVE_STATUSES).exists():
        raise TaskActive("A task of this conversation is still running; cancel it first")
    await conversation.delete()

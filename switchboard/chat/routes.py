"""`/api/v1/chat/…`, `/conversations/…`, `/memories/…` and the direct agent runs `/agents/{agent}/run(s)`
(the approvals inbox is `switchboard.approvals`)."""

from __future__ import annotations

import time

from quart import Blueprint, Response
from quart_schema import document_response, validate_querystring, validate_request, validate_response

from switchboard.agents import Registry
from switchboard.chat import agent_runs, memory, service
from switchboard.chat.models import TERMINAL_STATUSES, ChatTask
from switchboard.chat.schemas import (
    ActiveTask,
    AgentRunAccepted,
    AgentRunIn,
    AgentRunOut,
    ChatIn,
    ConversationOut,
    ConversationPatch,
    ConversationQuery,
    MemoryIn,
    MemoryOut,
    MemoryPatch,
    MemoryQuery,
    MemoryStats,
    MessageOut,
    ProgressState,
    ResultOut,
    TaskAccepted,
    TaskOut,
    TimelineStep,
)
from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.idempotency import idempotent
from switchboard.platform.openapi import event_stream, no_content
from switchboard.platform.pagination import Page, PageQuery
from switchboard.platform.sse import stream_response
from switchboard.platform.web import resume_point, runtime

chat = Blueprint("chat", __name__, url_prefix="/api/v1")

SYNC_WAIT_SECONDS = 120.0


def _task(task: ChatTask) -> TaskOut:
    return TaskOut(
        task_id=task.id,
        status=task.status,
        mode=task.mode,
        resolved_mode=task.resolved_mode,
        conversation_id=task.conversation_id,
        question=task.question,
        created_at=task.created_at,
        finished_at=task.finished_at,
    )


def _result(task: ChatTask) -> ResultOut:
    return ResultOut(
        task_id=task.id,
        status=task.status,
        response=task.response,
        citations=task.citations,
        conversation_id=task.conversation_id,
        error=task.error,
    )


@chat.post("/chat/stream")
@require_user
@idempotent
@validate_request(ChatIn)
@validate_response(TaskAccepted, 202)
async def start(data: ChatIn) -> tuple[TaskAccepted, int]:
    """Queue a question; 409 `task_active` while another of the caller's tasks runs."""
    conversation = str(data.conversation_id) if data.conversation_id else None
    rt = runtime()
    task = await service.start_task(current_principal(), data.message, conversation, data.mode, rt.queue, rt.events)
    return TaskAccepted(task_id=task.id, status="processing", conversation_id=task.conversation_id), 202


@chat.post("/chat")
@require_user
@idempotent
@validate_request(ChatIn)
@validate_response(ResultOut)
@document_response(TaskAccepted, 202)
async def ask_and_wait(data: ChatIn) -> tuple[ResultOut | TaskAccepted, int]:
    """Ask and wait for the answer (202 with the task id if it takes longer than two minutes)."""
    principal, rt = current_principal(), runtime()
    conversation = str(data.conversation_id) if data.conversation_id else None
    started = await service.start_task(principal, data.message, conversation, data.mode, rt.queue, rt.events)
    deadline, cursor = time.monotonic() + SYNC_WAIT_SECONDS, None
    while time.monotonic() < deadline:
        batch = await rt.events.read(service.task_stream(started.id), cursor, block_ms=1000)
        if batch:
            cursor = batch[-1].id
        if any(e.terminal or e.update_type == "approval_required" for e in batch):
            break
    task = await ChatTask.get(id=started.id)
    if task.status in TERMINAL_STATUSES:
        return _result(task), 200
    return TaskAccepted(task_id=task.id, status=task.status, conversation_id=task.conversation_id), 202


@chat.get("/chat/active")
@require_user
@validate_response(ActiveTask)
async def active() -> ActiveTask:
    """The caller's running task, or the one that just finished (to recover after a page refresh)."""
    task = await service.active_task(current_principal())
    return ActiveTask(task=_task(task) if task else None)


@chat.get("/chat/<task_id>")
@require_user
@validate_response(TaskOut)
async def get_task(task_id: str) -> TaskOut:
    """A task's state."""
    return _task(await service.get_task(current_principal(), task_id))


@chat.get("/chat/<task_id>/progress")
@require_user
@event_stream("The task's steps and answer as they happen")
async def progress(task_id: str) -> Response:
    """SSE of every step; resumes after `?last_id=` or `Last-Event-ID`. Disconnecting never stops the task."""
    task = await service.get_task(current_principal(), task_id)
    rt = runtime()
    return await stream_response(
        rt.events, service.task_stream(task.id), resume_point(), rt.settings.sse_heartbeat_seconds,
        ended=service.ended_events(task),
    )  # fmt: skip


@chat.get("/chat/<task_id>/progress/state")
@require_user
@validate_response(ProgressState)
async def progress_state(task_id: str) -> ProgressState:
    """The same events as the SSE stream, as JSON."""
    task = await service.get_task(current_principal(), task_id)
    return ProgressState(task_id=task.id, status=task.status, events=await service.task_events(task, runtime().events))


@chat.get("/chat/<task_id>/result")
@require_user
@validate_response(ResultOut)
@document_response(ResultOut, 202)
async def result(task_id: str) -> tuple[ResultOut, int]:
    """The answer and its citations; 202 while the task runs."""
    task = await service.get_task(current_principal(), task_id)
    return _result(task), 200 if task.status in TERMINAL_STATUSES else 202


@chat.post("/chat/<task_id>/cancel")
@require_user
@validate_response(TaskOut)
async def cancel(task_id: str) -> TaskOut:
    """Stop a task: a running one stops within a fraction of a second, keeping the answer written so far."""
    return _task(await service.cancel_task(current_principal(), task_id, runtime()))


@chat.get("/conversations")
@require_user
@validate_querystring(ConversationQuery)
@validate_response(Page[ConversationOut])
async def conversations(query_args: ConversationQuery) -> Page[ConversationOut]:
    """The caller's conversations, most recent first; `?q=` keeps those whose title or messages hold the words."""
    found = await service.list_conversations(current_principal(), query_args.limit, query_args.offset, query_args.q)
    items = [ConversationOut.model_validate(c, from_attributes=True) for c in found.items]
    return Page(items=items, total=found.total, limit=query_args.limit, offset=query_args.offset)


@chat.get("/conversations/<conversation_id>/messages")
@require_user
@validate_querystring(PageQuery)
@validate_response(Page[MessageOut])
async def messages(conversation_id: str, query_args: PageQuery) -> Page[MessageOut]:
    """A conversation's messages, oldest first."""
    found, total = await service.list_messages(
        current_principal(), conversation_id, query_args.limit, query_args.offset
    )
    details = await service.answer_details(found)
    items = []
    for m in found:
        status, steps = details.get(m.task_id, (None, [])) if m.task_id else (None, [])
        items.append(
            MessageOut(
                id=m.id,
                role=m.role,
                content=m.content,
                citations=m.citations,
                task_id=m.task_id,
                created_at=m.created_at,
                status=status if m.role == "assistant" else None,
                steps=[TimelineStep(**s) for s in steps] if m.role == "assistant" else [],
            )
        )
    return Page(items=items, total=total, limit=query_args.limit, offset=query_args.offset)


@chat.patch("/conversations/<conversation_id>")
@require_user
@validate_request(ConversationPatch)
@validate_response(ConversationOut)
async def rename_conversation(conversation_id: str, data: ConversationPatch) -> ConversationOut:
    """Rename a conversation."""
    renamed = await service.rename_conversation(current_principal(), conversation_id, data.title)
    return ConversationOut.model_validate(renamed, from_attributes=True)


@chat.delete("/conversations/<conversation_id>")
@require_user
@no_content("Deleted with its messages")
async def delete_conversation(conversation_id: str) -> tuple[str, int]:
    """Delete a conversation and its messages."""
    await service.delete_conversation(current_principal(), conversation_id)
    return "", 204


@chat.get("/memories")
@require_user
@validate_querystring(MemoryQuery)
@validate_response(Page[MemoryOut])
async def list_memories(query_args: MemoryQuery) -> Page[MemoryOut]:
    """The caller's memories, most important first."""
    found, total = await memory.list_memories(
        current_principal(), category=query_args.category, limit=query_args.limit, offset=query_args.offset
    )
    items = [MemoryOut.model_validate(m, from_attributes=True) for m in found]
    return Page(items=items, total=total, limit=query_args.limit, offset=query_args.offset)


@chat.get("/memories/stats")
@require_user
@validate_response(MemoryStats)
async def memory_stats() -> MemoryStats:
    """How many memories per category."""
    return MemoryStats(**await memory.stats(current_principal()))


@chat.post("/memories")
@require_user
@validate_request(MemoryIn)
@validate_response(MemoryOut, 201)
async def create_memory(data: MemoryIn) -> tuple[MemoryOut, int]:
    """Remember something."""
    created = await memory.create_memory(current_principal(), data.content, data.category, data.importance)
    return MemoryOut.model_validate(created, from_attributes=True), 201


@chat.get("/memories/<memory_id>")
@require_user
@validate_response(MemoryOut)
async def get_memory(memory_id: str) -> MemoryOut:
    """One memory."""
    return MemoryOut.model_validate(await memory.get_memory(current_principal(), memory_id), from_attributes=True)


@chat.put("/memories/<memory_id>")
@require_user
@validate_request(MemoryPatch)
@validate_response(MemoryOut)
async def update_memory(memory_id: str, data: MemoryPatch) -> MemoryOut:
    """Edit a memory."""
    updated = await memory.update_memory(current_principal(), memory_id, data.content, data.category, data.importance)
    return MemoryOut.model_validate(updated, from_attributes=True)


@chat.delete("/memories/<memory_id>")
@require_user
@no_content("Forgotten")
async def delete_memory(memory_id: str) -> tuple[str, int]:
    """Forget a memory."""
    await memory.delete_memory(current_principal(), memory_id)
    return "", 204


def _run(task: ChatTask) -> AgentRunOut:
    return AgentRunOut(
        run_id=task.id,
        agent=task.agent or "",
        status=task.status,
        instruction=task.question,
        response=task.response,
        citations=task.citations,
        error=task.error,
        steps=[TimelineStep(**s) for s in task.state.get("timeline", [])],
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
    )


@chat.post("/agents/<agent_name>/run")
@require_user
@idempotent
@validate_request(AgentRunIn)
@validate_response(AgentRunAccepted, 202)
async def run_agent(agent_name: str, data: AgentRunIn) -> tuple[AgentRunAccepted, int]:
    """Run one agent on an instruction with the caller's permissions; a tool call that needs confirmation
    waits in the approvals inbox. 404 for an agent the caller may not use; 409 `task_active` while
    another run of this agent by the caller is going."""
    rt = runtime()
    task = await agent_runs.start_run(
        current_principal(), rt.resource(Registry), agent_name, data.instruction, rt.queue, rt.events
    )
    return AgentRunAccepted(run_id=task.id, agent=task.agent or agent_name, status=task.status), 202


@chat.get("/agents/<agent_name>/runs")
@require_user
@validate_querystring(PageQuery)
@validate_response(Page[AgentRunOut])
async def list_agent_runs(agent_name: str, query_args: PageQuery) -> Page[AgentRunOut]:
    """The caller's runs of this agent, newest first, each with its steps."""
    found, total = await agent_runs.list_runs(
        current_principal(), runtime().resource(Registry), agent_name, query_args.limit, query_args.offset
    )
    return Page(items=[_run(t) for t in found], total=total, limit=query_args.limit, offset=query_args.offset)


@chat.get("/agents/<agent_name>/runs/<run_id>")
@require_user
@validate_response(AgentRunOut)
async def get_agent_run(agent_name: str, run_id: str) -> AgentRunOut:
    """One of the caller's runs of this agent, with its steps."""
    return _run(await agent_runs.get_run(current_principal(), runtime().resource(Registry), agent_name, run_id))

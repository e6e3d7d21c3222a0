"""One agent pass of a chat task (a step), remembered once finished, paused while a tool call waits for approval.

`TaskRun` is what the passes of one task share: the task, the acting person, the chosen model,
the registry, the emitter, the earlier conversation and what is known about the person.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from switchboard.agents import (
    NOTHING_FOUND,
    ChatModel,
    Message,
    OfflineResponder,
    Registry,
    RunOutcome,
    messages_from_json,
    messages_to_json,
    run_agents,
)
from switchboard.chat import confirmations, memory
from switchboard.chat.citations import Source, from_state, sources_of, to_state
from switchboard.chat.emitter import Emitter
from switchboard.chat.models import ChatTask
from switchboard.chat.models import Message as StoredMessage
from switchboard.platform.auth import Principal
from switchboard.platform.runtime import Runtime

HISTORY_CHARS = 12_000  # ~3k tokens of earlier conversation
SYSTEM_PROMPT = (
    "You are Switchboard, an assistant that answers with the tools you are given. Search the user's documents "
    "when the question may be answered by them. Number the passages the searches return 1, 2, 3… in the order "
    "you receive them (across searches) and cite them as [n]. Do not end with a list of sources: the cited "
    "passages are shown beside your answer. Write in Markdown. If the documents do not answer, say so plainly."
)


class TaskCancelled(Exception):
    """The user cancelled the task; it stops at the next step."""


class Paused(Exception):
    """A step waits for a person's decision."""


@dataclass
class StepResult:
    """What one agent pass found."""

    text: str
    hits: list[Source]

    @property
    def weak(self) -> bool:
        """Nothing useful: no text, or the offline responder's 'nothing found'."""
        text = self.text.strip()
        return not text or text == NOTHING_FOUND or len(text) < 12


async def cancel_requested(task_id: uuid.UUID) -> bool:
    """True once the task's person pressed Stop (or an API client cancelled it)."""
    return await ChatTask.filter(id=task_id, cancel_requested=True).exists()


@dataclass
class TaskRun:
    task: ChatTask
    principal: Principal
    runtime: Runtime
    registry: Registry
    model: ChatModel
    emit: Emitter
    history: list[Message]
    memories: list[str]

    @property
    def state(self) -> dict[str, Any]:
        return self.task.state

    async def save(self) -> None:
        await ChatTask.filter(id=self.task.id).update(state=self.task.state)

    async def check_cancelled(self) -> None:
        if await cancel_requested(self.task.id):
            raise TaskCancelled()

    @property
    def offline(self) -> bool:
        return isinstance(self.model, OfflineResponder)


async def history(task: ChatTask) -> list[Message]:
    """Earlier turns of the conversation, newest kept first, within the budget."""
    earlier = (
        await StoredMessage.filter(conversation_id=task.conversation_id)
        .exclude(task_id=task.id)
        .order_by("-created_at")
        .limit(40)
    )
    kept: list[Message] = []
    used = 0
    for stored in earlier:
        used += len(stored.content)
        if used > HISTORY_CHARS:
            break
        kept.append(Message.user(stored.content) if stored.role == "user" else Message.assistant(stored.content))
    return list(reversed(kept))


async def memories(task: ChatTask) -> list[str]:
    return [m.content for m in await memory.recall(task.org_id, task.user_id, task.question)]


def system_message(run: TaskRun) -> Message:
    lines = [SYSTEM_PROMPT]
    if run.memories:
        lines.append("What you know about the user:\n" + "\n".join(f"- {m}" for m in run.memories))
    return Message.system("\n\n".join(lines))


async def step(run: TaskRun, step_id: str, question: str, *, stream_text: bool, agent: str = "assistant") -> StepResult:
    """One agent pass, remembered once finished; raises Paused when a tool call needs approval."""
    done = run.state.setdefault("steps", {})
    if step_id in done:
        return StepResult(done[step_id]["text"], from_state(done[step_id]["hits"]))
    await run.check_cancelled()
    paused = run.state.setdefault("paused", {}).get(step_id)
    decisions: dict[str, bool] = {}
    found_before: list[Source] = []  # a resumed pass's transcript keeps text only: what it found is in the state
    if paused:
        found_before = from_state(paused.get("hits", ()))
        decisions = await _decisions(paused["approvals"])
        if len(decisions) < len(paused["approvals"]):
            raise Paused()
        messages = messages_from_json(paused["messages"])
    else:
        messages = [system_message(run), *run.history, Message.user(question)]
        await run.emit("agent_started", f"Working on: {question}", agent=agent, data={"step": step_id})

    async def on_event(update_type: str, message: str, **fields: Any) -> None:
        if update_type == "text_delta" and not stream_text:
            return
        data = {"step": step_id, **fields.pop("data", {})}
        fields.setdefault("agent", agent)
        await run.emit(update_type, message, data=data, **fields)

    outcome = await run_agents(
        run.model,
        run.registry,
        run.principal,
        messages,
        on_event=on_event,
        decisions=decisions,
        task_id=str(run.task.id),
        max_steps=run.runtime.settings.agent_max_steps,
    )
    if outcome.status == "needs_approval":
        await _ask_for_approvals(run, step_id, outcome, found_before + sources_of(outcome))
        raise Paused()
    result = StepResult(outcome.text, found_before + sources_of(outcome))
    done[step_id] = {"text": result.text, "hits": to_state(result.hits)}
    run.state["paused"].pop(step_id, None)
    await run.save()
    await run.emit(
        "agent_completed", f"Finished: {question}", agent=agent, data={"step": step_id, "found": len(result.hits)}
    )
    return result


async def _decisions(approval_ids: dict[str, str]) -> dict[str, bool]:
    return await confirmations.decisions(approval_ids)


async def _ask_for_approvals(run: TaskRun, step_id: str, outcome: RunOutcome, found: list[Source]) -> None:
    asked: dict[str, str] = {}
    for call in outcome.pending:
        approval = await confirmations.request(
            run.task,
            call_id=call.call_id,
            agent=call.agent,
            tool=call.tool,
            arguments=call.arguments,
            summary=f"{call.agent} wants to run {call.tool}: {call.reason}",
        )
        asked[call.call_id] = str(approval.id)
        await run.emit(
            "approval_required",
            f"Approve {call.tool}?",
            agent=call.agent,
            tool=call.tool,
            approval_id=str(approval.id),
            data={"arguments": call.arguments, "step": step_id, "expires_at": approval.expires_at.isoformat()},
        )
    run.state.setdefault("paused", {})[step_id] = {
        "messages": messages_to_json(outcome.messages),
        "approvals": asked,
        "hits": to_state(found),
    }
    await run.save()


async def emit_citations(run: TaskRun, citations: list[dict[str, Any]]) -> None:
    for citation in citations:
        await run.emit("citation", f"[{citation['number']}] {citation['document_name']}", data=citation)


async def run_steps(run: TaskRun, prefix: str, questions: list[str]) -> list[StepResult]:
    """Independent steps concurrently; a step waiting for approval pauses the task after the others finish."""
    outcomes = await asyncio.gather(
        *(step(run, f"{prefix}{i}", q, stream_text=False, agent="researcher") for i, q in enumerate(questions)),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [o for o in outcomes if isinstance(o, StepResult)]

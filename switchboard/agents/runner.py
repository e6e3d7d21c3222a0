"""The agent loop: the model answers, asks for tools, and the server decides each call.

`run_agents` sends the model only the tools the user may use, streams its text, and for each
tool call asks `authorize_tool_call`:

- deny: the tool does not run; the model is told it was refused (the refusal is audited);
- confirm: the tool does not run; the run stops with `needs_approval` and the pending calls.
  The caller (chat) asks a person, then calls `run_agents` again with the returned messages
  and `decisions={call_id: True|False}`: approved calls run (after a fresh check), rejected
  ones are refused to the model, and the loop carries on;
- allow: the tool runs and its result goes back to the model.

It stops when the model answers without asking for tools, or after `max_steps` model turns.
The transcript (`RunOutcome.messages`) is the whole state, so a paused run can be stored
(`messages_to_json`) and resumed in another process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from switchboard.agents.access import PolicySet, usable_agents
from switchboard.agents.errors import UnknownTool
from switchboard.agents.policies import authorize_tool_call, load_policies
from switchboard.agents.providers.base import (
    ChatModel,
    ChatOptions,
    Completion,
    Message,
    TextDelta,
    ToolCallRequest,
    ToolSpec,
    Usage,
)
from switchboard.agents.registry import Agent, CallContext, Registry, Tool
from switchboard.agents.results import tool_result_text
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import AppError

RunStatus = Literal["completed", "needs_approval", "max_steps"]
DEFAULT_MAX_STEPS = 8
MAX_RESULT_CHARS = 20_000  # what one tool result may put in front of the model


class EventSink(Protocol):
    """Where progress goes: `update_type` is an SSE update type (text_delta, tool_started, tool_completed, ...)."""

    async def __call__(self, update_type: str, message: str, **fields: Any) -> None:
        """Deliver one progress event."""


async def _discard(update_type: str, message: str, **fields: Any) -> None:
    return None


@dataclass(frozen=True)
class PendingCall:
    """A tool call waiting for a person's approval."""

    call_id: str
    agent: str
    tool: str
    arguments: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, its transcript, and what waits for approval."""

    status: RunStatus
    text: str  # the model's last answer
    messages: tuple[Message, ...]
    pending: tuple[PendingCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    steps: int = 0


async def run_agents(
    model: ChatModel,
    registry: Registry,
    principal: Principal,
    messages: Sequence[Message],
    *,
    on_event: EventSink | None = None,
    decisions: Mapping[str, bool] | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    task_id: str | None = None,
    resources: Mapping[str, Any] | None = None,
    options: ChatOptions | None = None,
) -> RunOutcome:
    """Run the loop from `messages` until the model is done, a call needs approval, or `max_steps` turns."""
    run = _Run(model, registry, principal, list(messages), on_event or _discard, task_id, resources or {}, options)
    unanswered = _unanswered_calls(run.messages)
    if unanswered:
        pending = await run.handle_calls(unanswered, decisions or {})
        if pending:
            return run.outcome("needs_approval", pending)
    for _ in range(max_steps):
        completion = await run.model_turn()
        if not completion.tool_calls:
            return run.outcome("completed")
        pending = await run.handle_calls(completion.tool_calls, {})
        if pending:
            return run.outcome("needs_approval", pending)
    return run.outcome("max_steps")


@dataclass
class _Run:
    model: ChatModel
    registry: Registry
    principal: Principal
    messages: list[Message]
    emit: EventSink
    task_id: str | None
    resources: Mapping[str, Any]
    options: ChatOptions | None
    text: str = ""
    steps: int = 0
    usage: Usage = field(default_factory=Usage)
    # the settings the last model turn offered tools under: its tool calls are checked against them
    turn_policies: PolicySet | None = None

    def outcome(self, status: RunStatus, pending: Sequence[PendingCall] = ()) -> RunOutcome:
        return RunOutcome(status, self.text, tuple(self.messages), tuple(pending), self.usage, self.steps)

    async def model_turn(self) -> Completion:
        # Fresh settings each turn: an admin's change applies from the next turn of a running task.
        policies = self.turn_policies = await load_policies(self.principal)
        tools: list[ToolSpec] = [t.spec() for a in usable_agents(self.registry, policies) for t in a.tools]
        final: Completion | None = None
        async for event in self.model.stream(self.messages, tools=tools, options=self.options):
            if isinstance(event, TextDelta):
                await self.emit("text_delta", event.text)
            elif isinstance(event, Completion):
                final = event
        if final is None:
            raise RuntimeError(f"{type(self.model).__name__} ended without a Completion")
        self.steps += 1
        self.text = final.text
        self.usage = _add(self.usage, final.usage)
        self.messages.append(Message.assistant(final.text, final.tool_calls))
        return final

    async def handle_calls(self, calls: Sequence[ToolCallRequest], decisions: Mapping[str, bool]) -> list[PendingCall]:
        """Refuse, run or park each call; a result message is added for every call not parked.

        The calls of a model turn are checked against the settings that turn was given (loaded a moment
        ago, not again); calls resumed after an approval, against fresh ones.
        """
        policies = self.turn_policies if self.turn_policies is not None else await load_policies(self.principal)
        self.turn_policies = None
        pending: list[PendingCall] = []
        for call in calls:
            try:
                agent, tool = self.registry.tool(call.name)
            except UnknownTool:
                self._answer(call, f"Error: there is no tool named {call.name}.")
                continue
            verdict = await authorize_tool_call(
                self.principal, agent, tool, call.arguments, policies=policies, task_id=self.task_id
            )
            if verdict.outcome == "deny":
                await self.emit(
                    "tool_completed",
                    f"{tool.name} was refused",
                    agent=agent.name,
                    tool=tool.name,
                    data={"status": "denied", "reason": verdict.reason},
                )
                self._answer(call, f"Refused: this tool call was not run. {verdict.reason}")
                continue
            if verdict.outcome == "confirm" and call.id not in decisions:
                pending.append(PendingCall(call.id, agent.name, tool.name, _arguments(call), verdict.reason))
                continue
            if verdict.outcome == "confirm" and not decisions[call.id]:
                await self._refused_by_person(agent, tool, call)
                continue
            assert verdict.arguments is not None
            await self._run_tool(agent, tool, call, verdict.arguments)
        return pending

    async def _refused_by_person(self, agent: Agent, tool: Tool[Any], call: ToolCallRequest) -> None:
        await audit.record(
            "tool.rejected",
            actor=self.principal,
            target_type="tool",
            target_id=tool.name,
            outcome="denied",
            details={"agent": agent.name, "task_id": self.task_id},
        )
        await self.emit(
            "tool_completed", f"{tool.name} was rejected", agent=agent.name, tool=tool.name, data={"status": "rejected"}
        )
        self._answer(call, "Refused: the user did not approve this tool call, so it was not run.")

    async def _run_tool(self, agent: Agent, tool: Tool[Any], call: ToolCallRequest, arguments: Any) -> None:
        await self.emit(
            "tool_started",
            f"Running {tool.name}",
            agent=agent.name,
            tool=tool.name,
            data={"arguments": _arguments(call)},
        )
        context = CallContext(self.principal, self.task_id, None, self.resources)
        try:
            result = await tool.call(context, arguments)
        except AppError as exc:
            # A tool's own failure (a bad expression, an unreachable URL) is news for the model, not a crash.
            await self.emit(
                "tool_completed",
                f"{tool.name} failed",
                agent=agent.name,
                tool=tool.name,
                data={"status": "failed", "error": exc.code, "message": exc.message},
            )
            self._answer(call, f"Error ({exc.code}): {exc.message}")
            return
        if tool.kind == "write":
            await audit.record(
                "tool.called",
                actor=self.principal,
                target_type="tool",
                target_id=tool.name,
                details={"agent": agent.name, "task_id": self.task_id},
            )
        text = tool_result_text(result)
        await self.emit(
            "tool_completed",
            f"{tool.name} finished",
            agent=agent.name,
            tool=tool.name,
            data={"status": "completed", "result": text[:1000]},
        )
        self._answer(call, text[:MAX_RESULT_CHARS], result)

    def _answer(self, call: ToolCallRequest, content: str, result: Any = None) -> None:
        self.messages.append(Message.tool_result(call.id, content, result))


def _unanswered_calls(messages: Sequence[Message]) -> list[ToolCallRequest]:
    """The last assistant message's tool calls that have no result yet (a run paused for approval)."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role == "assistant":
            answered = {m.tool_call_id for m in messages[index + 1 :] if m.role == "tool"}
            return [c for c in message.tool_calls if c.id not in answered]
    return []


def _arguments(call: ToolCallRequest) -> dict[str, Any]:
    try:
        parsed = call.parsed_arguments()
    except ValueError:
        return {"_raw": call.arguments}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}


def _add(total: Usage, more: Usage | None) -> Usage:
    if more is None:
        return total
    return Usage(
        total.prompt_tokens + more.prompt_tokens,
        total.completion_tokens + more.completion_tokens,
        total.total_tokens + more.total_tokens,
    )


def messages_to_json(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """A transcript as JSON-ready data, to store a paused run."""
    return [
        {
            "role": m.role,
            "content": m.content,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in m.tool_calls],
            "tool_call_id": m.tool_call_id,
        }
        for m in messages
    ]


def messages_from_json(data: Sequence[Mapping[str, Any]]) -> list[Message]:
    """A transcript stored with `messages_to_json`."""
    return [
        Message(
            role=m["role"],
            content=m.get("content") or "",
            tool_calls=tuple(ToolCallRequest(c["id"], c["name"], c["arguments"]) for c in m.get("tool_calls") or ()),
            tool_call_id=m.get("tool_call_id"),
        )
        for m in data
    ]

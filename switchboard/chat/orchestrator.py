"""How a chat task is answered: pick a mode, run agent passes, pause for approvals, synthesise.

- ask: one agent pass; an empty or weak answer escalates to research.
- research: a plan of steps (`plan_created`), run concurrently, evaluated (`replan_triggered` for
  steps that found nothing), then a synthesis.
- investigate: hypotheses (`hypotheses_updated`) explored in waves, then a synthesis.
- auto: the model classifies the question (a heuristic when offline).

Every finished step is kept in the task's `state`, so a retried job or a task resumed after an
approval never runs a finished step again.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

from switchboard.agents.providers.base import ChatModel, Message, TextDelta, complete
from switchboard.agents.providers.offline import NOTHING_FOUND, SEARCH_TOOL, OfflineResponder, compose_answer
from switchboard.agents.runner import RunOutcome, messages_from_json, messages_to_json, run_agents
from switchboard.chat import confirmations, memory
from switchboard.chat.models import ChatTask
from switchboard.chat.models import Message as StoredMessage
from switchboard.platform.auth import Principal
from switchboard.platform.events import TERMINAL_TYPES, Entry, EventLog
from switchboard.platform.runtime import Runtime

HISTORY_CHARS = 12_000  # ~3k tokens of earlier conversation
MAX_CITATIONS = 10
SYSTEM_PROMPT = (
    "You are Switchboard, an assistant that answers with the tools you are given. Search the user's documents "
    "when the question may be answered by them, and cite passages as [n] using the numbers of the sources. "
    "If the documents do not answer, say so plainly."
)


class TaskCancelled(Exception):
    """The user cancelled the task; it stops at the next step."""


class Emitter:
    """Appends a task's events to its stream (the stream first, always), in the order they are emitted.

    Emitting does not wait for the append: the first event goes out at once, and those emitted while
    it is in flight go out together in the next append (one round trip, and a reader gets them in
    one read). Text deltas of the same agent and step emitted meanwhile become one `text_delta`: a
    model streaming at its own pace gets an event per token, while text produced faster than it can
    be appended (the offline responder, a fast model, a busy event log) costs a few events instead
    of one per word. A terminal event, and `flush()`, wait until everything emitted is appended; an
    append that failed fails the next emit or flush.
    """

    def __init__(self, events: EventLog, stream: str, task: ChatTask) -> None:
        self.events, self.stream, self.task = events, stream, task
        self._pending: list[Entry] = []
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self, update_type: str, message: str = "", **fields: Any) -> None:
        """Hand one event over to be appended (a terminal one: and wait until it is)."""
        if self._sender is not None and self._sender.done():
            sender, self._sender = self._sender, None
            sender.result()  # an append that failed fails the step that emits next
        last = self._pending[-1] if self._pending else None
        if update_type == "text_delta" and last is not None and last[0] == "text_delta" and last[2] == fields:
            self._pending[-1] = ("text_delta", last[1] + message, fields)
        else:
            self._pending.append((update_type, message, fields))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send())
        if update_type in TERMINAL_TYPES:
            await self.flush()

    async def flush(self) -> None:
        """Wait until every event handed over is appended (raises if an append failed)."""
        while (sender := self._sender) is not None:
            try:
                await sender
            finally:
                if self._sender is sender:
                    self._sender = None

    async def _send(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            await self.events.append_many(self.stream, batch)


@dataclass
class Outcome:
    """The answer, or the news that the task waits for approvals."""

    text: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    mode: str | None = None
    paused: bool = False


@dataclass
class StepResult:
    """What one agent pass found."""

    text: str
    hits: list[dict[str, Any]]

    @property
    def weak(self) -> bool:
        """Nothing useful: no text, or the offline responder's 'nothing found'."""
        text = self.text.strip()
        return not text or text == NOTHING_FOUND or len(text) < 12


class Paused(Exception):
    """A step waits for a person's decision."""


@dataclass
class _Context:
    task: ChatTask
    principal: Principal
    runtime: Runtime
    registry: Any
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
        if await ChatTask.filter(id=self.task.id, cancel_requested=True).exists():
            raise TaskCancelled()

    @property
    def offline(self) -> bool:
        return isinstance(self.model, OfflineResponder)


async def run_task(
    task: ChatTask, principal: Principal, runtime: Runtime, ctx: dict[str, Any], emit: Emitter
) -> Outcome:
    """Answer the task in its mode; returns `paused` when an approval is needed first."""
    from switchboard.contexts import worker_registry

    model, closer = await model_for(principal, runtime)
    try:
        run = _Context(
            task, principal, runtime, worker_registry(ctx), model, emit, await _history(task), await _memories(task)
        )
        mode = run.state.get("mode") or await _choose_mode(run)
        if "mode" not in run.state:
            run.state["mode"] = mode
            await run.save()
            await emit("mode_selected", f"Answering in {mode} mode", data={"mode": mode, "requested": task.mode})
        try:
            return await _MODES[mode](run)
        except Paused:
            return Outcome(paused=True, mode=mode)
    finally:
        if closer is not None:
            await closer()


async def model_for(principal: Principal, runtime: Runtime) -> tuple[ChatModel, Any]:
    """The user's own model, else the platform's, else the offline responder; and how to close it."""
    from switchboard.agents.model_settings import chat_model_for
    from switchboard.agents.providers.openai_compat import OpenAIChatModel

    own = await chat_model_for(principal, runtime.settings)
    if own is not None:
        return own, own.close
    settings = runtime.settings
    if settings.chat_base_url:
        platform = OpenAIChatModel(
            base_url=settings.chat_base_url, api_key=settings.chat_api_key or "none", model=settings.chat_model
        )
        return platform, platform.close
    return OfflineResponder(), None


async def _history(task: ChatTask) -> list[Message]:
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


async def _memories(task: ChatTask) -> list[str]:
    return [m.content for m in await memory.recall(task.org_id, task.user_id, task.question)]


MEMORY_PROMPT = (
    "From the user's message below, list what is worth remembering about the user for later conversations "
    "(their preferences, facts about them, recurring patterns). Reply with a JSON list of objects "
    '{"category": "preferences"|"facts"|"patterns"|"memories", "content": "...", "importance": 0..1}, '
    "or [] if nothing.\n\nMessage: "
)


async def extract_memories(model: ChatModel, question: str) -> list[tuple[str, str, float]]:
    """(category, content, importance) the model finds worth remembering; offline, first-person statements."""
    if isinstance(model, OfflineResponder):
        return [(category, text, 0.6) for category, text in memory.extract_statements(question)]
    try:
        found = json.loads((await complete(model, [Message.user(MEMORY_PROMPT + question)])).text)
    except ValueError:
        return []
    kept = []
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and isinstance(item.get("content"), str) and item["content"].strip():
            category = item.get("category") if item.get("category") in memory.CATEGORIES else "memories"
            importance = min(1.0, max(0.0, float(item.get("importance") or 0.5)))
            kept.append((str(category), item["content"].strip()[:2000], importance))
    return kept[:5]


def _system(run: _Context) -> Message:
    lines = [SYSTEM_PROMPT]
    if run.memories:
        lines.append("What you know about the user:\n" + "\n".join(f"- {m}" for m in run.memories))
    return Message.system("\n\n".join(lines))


_RESEARCH_WORDS = re.compile(r"\b(compare|overview|summari[sz]e|research|all the|list every|pros and cons)\b", re.I)
_INVESTIGATE_WORDS = re.compile(r"\b(why|investigate|root cause|diagnose|what caused|explain the cause)\b", re.I)


async def _choose_mode(run: _Context) -> str:
    if run.task.mode != "auto":
        return run.task.mode
    question = run.task.question
    if not run.offline:
        prompt = (
            "Classify how to answer the question. Reply with one word: ask (a direct question), research "
            "(several parts or a broad overview), or investigate (a why / root-cause question).\n\n" + question
        )
        answer = (await complete(run.model, [Message.user(prompt)])).text.lower()
        for mode in ("investigate", "research", "ask"):
            if mode in answer:
                return mode
    if _INVESTIGATE_WORDS.search(question):
        return "investigate"
    if _RESEARCH_WORDS.search(question) or len(_sub_questions(question)) > 1:
        return "research"
    return "ask"


async def _step(
    run: _Context, step_id: str, question: str, *, stream_text: bool, agent: str = "assistant"
) -> StepResult:
    """One agent pass, remembered once finished; raises Paused when a tool call needs approval."""
    done = run.state.setdefault("steps", {})
    if step_id in done:
        return StepResult(done[step_id]["text"], done[step_id]["hits"])
    await run.check_cancelled()
    paused = run.state.setdefault("paused", {}).get(step_id)
    decisions: dict[str, bool] = {}
    if paused:
        decisions = await _decisions(paused["approvals"])
        if len(decisions) < len(paused["approvals"]):
            raise Paused()
        messages = messages_from_json(paused["messages"])
    else:
        messages = [_system(run), *run.history, Message.user(question)]
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
        await _ask_for_approvals(run, step_id, outcome)
        raise Paused()
    result = StepResult(outcome.text, _hits(outcome))
    done[step_id] = {"text": result.text, "hits": result.hits}
    run.state["paused"].pop(step_id, None)
    await run.save()
    await run.emit(
        "agent_completed", f"Finished: {question}", agent=agent, data={"step": step_id, "found": len(result.hits)}
    )
    return result


async def _decisions(approval_ids: dict[str, str]) -> dict[str, bool]:
    return await confirmations.decisions(approval_ids)


async def _ask_for_approvals(run: _Context, step_id: str, outcome: RunOutcome) -> None:
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
    run.state.setdefault("paused", {})[step_id] = {"messages": messages_to_json(outcome.messages), "approvals": asked}
    await run.save()


def _hits(outcome: RunOutcome) -> list[dict[str, Any]]:
    """Passages the search tool returned during the pass, in the order the model saw them."""
    search_calls = {
        c.id for m in outcome.messages if m.role == "assistant" for c in m.tool_calls if c.name == SEARCH_TOOL
    }
    hits: list[dict[str, Any]] = []
    for message in outcome.messages:
        if message.role == "tool" and message.tool_call_id in search_calls:
            try:
                found = json.loads(message.content).get("results", [])
            except (ValueError, AttributeError):
                continue
            hits.extend(h for h in found if isinstance(h, dict))
    return hits


def _citations(hits: list[dict[str, Any]], limit: int = MAX_CITATIONS) -> list[dict[str, Any]]:
    seen: set[Any] = set()
    cited: list[dict[str, Any]] = []
    for hit in hits:
        if hit.get("chunk_id") in seen:
            continue
        seen.add(hit.get("chunk_id"))
        cited.append(
            {
                "number": len(cited) + 1,
                "document_id": hit.get("document_id"),
                "document_name": hit.get("document_name"),
                "chunk_id": hit.get("chunk_id"),
                "page": hit.get("page"),
                "text": (hit.get("text") or "")[:500],
            }
        )
        if len(cited) == limit:
            break
    return cited


async def _emit_citations(run: _Context, citations: list[dict[str, Any]]) -> None:
    for citation in citations:
        await run.emit("citation", f"[{citation['number']}] {citation['document_name']}", data=citation)


async def _ask(run: _Context) -> Outcome:
    result = await _step(run, "answer", run.task.question, stream_text=True)
    if result.weak and not run.state.get("escalated"):
        run.state["escalated"] = True
        run.state["mode"] = "research"
        await run.save()
        await run.emit(
            "replan_triggered",
            "The direct answer was weak; researching instead",
            data={"from": "ask", "to": "research"},
        )
        return await _research(run)
    citations = _citations(result.hits, limit=3 if run.offline else MAX_CITATIONS)
    await _emit_citations(run, citations)
    return Outcome(result.text, citations, "ask")


def _sub_questions(question: str) -> list[str]:
    parts = [p.strip(" ,;") for p in re.split(r"\?|;|\band also\b|\balso\b", question) if len(p.strip(" ,;")) > 8]
    return parts or [question]


async def _ask_for_list(model: ChatModel, prompt: str, limit: int = 4) -> list[str]:
    """The model's answer as a JSON list of strings (at most `limit`); empty when it wrote anything else."""
    try:
        proposed = json.loads((await complete(model, [Message.user(prompt)])).text)
    except ValueError:
        return []
    if not isinstance(proposed, list) or not all(isinstance(item, str) for item in proposed):
        return []
    return proposed[:limit]


async def _plan(run: _Context) -> list[str]:
    if "plan" in run.state:
        return list(run.state["plan"])
    question = run.task.question
    steps = _sub_questions(question)
    if not run.offline:
        prompt = (
            "Break the question into 2 to 4 independent research steps, each a short question. "
            "Reply with a JSON list of strings only.\n\nQuestion: " + question
        )
        steps = await _ask_for_list(run.model, prompt) or steps
    run.state["plan"] = steps
    await run.save()
    await run.emit("plan_created", f"Plan: {len(steps)} steps", data={"steps": steps})
    return steps


async def _run_steps(run: _Context, prefix: str, questions: list[str]) -> list[StepResult]:
    """Independent steps concurrently; a step waiting for approval pauses the task after the others finish."""
    outcomes = await asyncio.gather(
        *(_step(run, f"{prefix}{i}", q, stream_text=False, agent="researcher") for i, q in enumerate(questions)),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [o for o in outcomes if isinstance(o, StepResult)]


async def _research(run: _Context) -> Outcome:
    steps = await _plan(run)
    results = await _run_steps(run, "step", steps)
    weak = [q for q, r in zip(steps, results, strict=True) if r.weak]
    if weak and not run.state.get("replanned"):
        retry = [" ".join(re.findall(r"\w{4,}", q)) or q for q in weak]
        if "replan" not in run.state:
            run.state["replan"] = retry
            await run.save()
            await run.emit(
                "replan_triggered",
                f"{len(weak)} steps found nothing; trying again with other words",
                data={"steps": retry},
            )
        results += await _run_steps(run, "retry", run.state["replan"])
        run.state["replanned"] = True
        await run.save()
    return await _synthesise(run, results, "research")


def _hypotheses(question: str) -> list[str]:
    keywords = " ".join(re.findall(r"\w{4,}", question))
    return [question, f"What the documents say about {keywords}"] if keywords else [question]


async def _investigate(run: _Context) -> Outcome:
    if "hypotheses" not in run.state:
        hypotheses = _hypotheses(run.task.question)
        if not run.offline:
            prompt = (
                "List 2 to 4 hypotheses that could explain or answer the question, each one sentence. "
                "Reply with a JSON list of strings only.\n\nQuestion: " + run.task.question
            )
            hypotheses = await _ask_for_list(run.model, prompt) or hypotheses
        run.state["hypotheses"] = [{"text": h, "status": "open"} for h in hypotheses]
        await run.save()
        await run.emit(
            "hypotheses_updated",
            f"{len(hypotheses)} hypotheses to test",
            data={"hypotheses": run.state["hypotheses"], "wave": 0},
        )
    results: list[StepResult] = []
    for wave in (1, 2):
        open_ones = [h for h in run.state["hypotheses"] if h["status"] == "open"]
        if not open_ones:
            break
        found = await _run_steps(run, f"wave{wave}-", [h["text"] for h in open_ones])
        for hypothesis, result in zip(open_ones, found, strict=True):
            hypothesis["status"] = "unsupported" if result.weak else "supported"
        results += found
        await run.save()
        await run.emit(
            "hypotheses_updated",
            f"Wave {wave}: {sum(not r.weak for r in found)} supported",
            data={"hypotheses": run.state["hypotheses"], "wave": wave},
        )
        if any(h["status"] == "supported" for h in run.state["hypotheses"]):
            break
    return await _synthesise(run, results, "investigate")


async def _synthesise(run: _Context, results: list[StepResult], mode: str) -> Outcome:
    hits = sorted((h for r in results for h in r.hits), key=lambda h: -float(h.get("score") or 0))
    citations = _citations(hits, limit=3 if run.offline else MAX_CITATIONS)
    await run.emit("agent_started", "Writing the answer", agent="synthesiser")
    if run.offline:
        text = compose_answer(run.task.question, hits)
        for piece in re.findall(r"\S+\s*", text):
            await run.emit("text_delta", piece)
    else:
        findings = "\n\n".join(f"Finding {i + 1}: {r.text}" for i, r in enumerate(results) if r.text.strip())
        sources = "\n".join(f"[{c['number']}] {c['document_name']}: {c['text'][:300]}" for c in citations)
        prompt = (
            f"Question: {run.task.question}\n\nFindings:\n{findings or '(none)'}\n\nSources:\n{sources or '(none)'}"
            "\n\nWrite the answer from the findings; cite sources as [n]."
        )
        text = ""
        async for event in run.model.stream([_system(run), Message.user(prompt)]):
            if isinstance(event, TextDelta):
                text += event.text
                await run.emit("text_delta", event.text)
    await run.emit("agent_completed", "Answer written", agent="synthesiser")
    await _emit_citations(run, citations)
    return Outcome(text, citations, mode)


_MODES = {"ask": _ask, "research": _research, "investigate": _investigate}

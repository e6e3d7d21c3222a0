"""The modes a chat task is answered in, and how `auto` picks one.

- ask: one agent pass; an empty or weak answer escalates to research.
- research: a plan of steps (`plan_created`), run concurrently, evaluated (`replan_triggered` for
  steps that found nothing), then a synthesis.
- investigate: hypotheses (`hypotheses_updated`) explored in waves, then a synthesis.
- auto: the model classifies the question (a heuristic when offline).
- agent: a direct agent run: one pass on the instruction with that agent's tools only, no escalation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard.agents import ChatModel, Message, TextDelta, complete, compose_answer
from switchboard.chat.citations import MAX_CITATIONS, Source, citations, only_cited, without_sources_list
from switchboard.chat.steps import StepResult, TaskRun, emit_citations, run_steps, step, system_message


@dataclass
class Outcome:
    """The answer, or the news that the task waits for approvals."""

    text: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    mode: str | None = None
    paused: bool = False


_RESEARCH_WORDS = re.compile(r"\b(compare|overview|summari[sz]e|research|all the|list every|pros and cons)\b", re.I)
_INVESTIGATE_WORDS = re.compile(r"\b(why|investigate|root cause|diagnose|what caused|explain the cause)\b", re.I)


async def choose_mode(run: TaskRun) -> str:
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


async def _ask(run: TaskRun) -> Outcome:
    result = await step(run, "answer", run.task.question, stream_text=True)
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
    return await _answered(run, result.text, citations(result.hits, limit=3 if run.offline else MAX_CITATIONS), "ask")


async def _agent(run: TaskRun) -> Outcome:
    agent = run.task.agent or "assistant"
    result = await step(run, "answer", run.task.question, stream_text=True, agent=agent)
    return await _answered(run, result.text, citations(result.hits, limit=3 if run.offline else MAX_CITATIONS), "agent")


async def _answered(run: TaskRun, text: str, candidates: list[Any], mode: str) -> Outcome:
    """The answer without a sources list of its own, its citations those of `candidates` it cites (sent)."""
    text = without_sources_list(text)
    cited = only_cited(text, candidates)
    await emit_citations(run, cited)
    return Outcome(text, cited, mode)


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


async def _plan(run: TaskRun) -> list[str]:
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


async def _research(run: TaskRun) -> Outcome:
    steps = await _plan(run)
    results = await run_steps(run, "step", steps)
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
        results += await run_steps(run, "retry", run.state["replan"])
        run.state["replanned"] = True
        await run.save()
    return await _synthesise(run, results, "research")


def _hypotheses(question: str) -> list[str]:
    keywords = " ".join(re.findall(r"\w{4,}", question))
    return [question, f"What the documents say about {keywords}"] if keywords else [question]


async def _investigate(run: TaskRun) -> Outcome:
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
        found = await run_steps(run, f"wave{wave}-", [h["text"] for h in open_ones])
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


async def _synthesise(run: TaskRun, results: list[StepResult], mode: str) -> Outcome:
    hits = _distinct(sorted((h for r in results for h in r.hits), key=lambda h: -h.score))
    candidates = citations(hits, limit=3 if run.offline else MAX_CITATIONS)
    await run.emit("agent_started", "Writing the answer", agent="synthesiser")
    if run.offline:
        text = compose_answer(run.task.question, hits[: len(candidates)])
        for piece in re.findall(r"\S+\s*", text):
            await run.emit("text_delta", piece)
    else:
        findings = "\n\n".join(f"Finding {i + 1}: {r.text}" for i, r in enumerate(results) if r.text.strip())
        sources = "\n".join(f"[{c['number']}] {c['document_name']}: {c['text'][:300]}" for c in candidates)
        prompt = (
            f"Question: {run.task.question}\n\nFindings:\n{findings or '(none)'}\n\nSources:\n{sources or '(none)'}"
            "\n\nWrite the answer from the findings in Markdown; cite the sources above as [n] with their numbers. "
            "Do not end with a list of sources: they are shown beside the answer."
        )
        text = ""
        async for event in run.model.stream([system_message(run), Message.user(prompt)]):
            if isinstance(event, TextDelta):
                text += event.text
                await run.emit("text_delta", event.text)
    await run.emit("agent_completed", "Answer written", agent="synthesiser")
    return await _answered(run, text, candidates, mode)


def _distinct(hits: list[Source]) -> list[Source]:
    """Each passage once (several steps often find the same one), in the order given."""
    seen: set[int] = set()
    kept = []
    for hit in hits:
        if hit.chunk_id not in seen:
            seen.add(hit.chunk_id)
            kept.append(hit)
    return kept


MODES: dict[str, Callable[[TaskRun], Awaitable[Outcome]]] = {
    "ask": _ask,
    "research": _research,
    "investigate": _investigate,
    "agent": _agent,
}
